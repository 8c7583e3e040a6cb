package contract

// ExitTampered is `drctl verify`'s (and `drctl archive`'s refusal) verdict for a bundle that
// is not intact: a file edited, added or removed, a manifest not matching its signature, a
// bad or untrusted signature, or no signature at all.
const ExitTampered = 6
