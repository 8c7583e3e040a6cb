package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// ErrStack is matched (errors.Is) by every error that concerns the choice of stack in an
// outputs file: several stacks and none chosen, or the chosen one absent.
var ErrStack = errors.New("stack")

// StackError says which stack was asked for (empty: none) and which the file holds.
type StackError struct {
	// File is the outputs file path.
	File string
	// Stack is the requested stack name; empty when none was given.
	Stack string
	// Available lists the stack names in the file, sorted.
	Available []string
}

// Error reads `{what}: {why}` and lists the stacks the file holds.
func (e *StackError) Error() string {
	if e.Stack == "" {
		return fmt.Sprintf("outputs file %q holds %d stacks: choose one with --stack (one of: %s)",
			e.File, len(e.Available), strings.Join(e.Available, ", "))
	}
	if len(e.Available) == 0 {
		return fmt.Sprintf("outputs file %q: stack %q not found: the file holds no stacks", e.File, e.Stack)
	}
	return fmt.Sprintf("outputs file %q: stack %q not found (one of: %s)",
		e.File, e.Stack, strings.Join(e.Available, ", "))
}

// Is makes errors.Is(err, ErrStack) true for a *StackError.
func (e *StackError) Is(target error) bool { return target == ErrStack }

// Load reads the JSON file written by `cdk deploy --outputs-file` ({"<StackName>": {"<OutputKey>":
// "<value>"}}) and returns the outputs of one stack. stack may be empty when the file holds
// exactly one stack. Non-string values (a port written as a number) are converted to strings.
func Load(path, stack string) (map[string]string, error) {
	_, out, err := LoadStack(path, stack)
	return out, err
}

// LoadStack is Load that also returns the name of the stack it chose.
func LoadStack(path, stack string) (string, map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("read outputs file: %w", err)
	}
	return Parse(path, data, stack)
}

// Parse is LoadStack on bytes already read; name is used in error messages only.
func Parse(name string, data []byte, stack string) (string, map[string]string, error) {
	var raw map[string]map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return "", nil, fmt.Errorf("outputs file %q: not a `cdk deploy --outputs-file` JSON object of stacks: %w", name, err)
	}
	names := make([]string, 0, len(raw))
	for n := range raw {
		names = append(names, n)
	}
	sort.Strings(names)
	switch {
	case stack == "" && len(raw) == 1:
		stack = names[0]
	case stack == "":
		if len(raw) == 0 {
			return "", nil, fmt.Errorf("outputs file %q: holds no stacks: %w", name, ErrStack)
		}
		return "", nil, &StackError{File: name, Available: names}
	}
	values, ok := raw[stack]
	if !ok {
		return "", nil, &StackError{File: name, Stack: stack, Available: names}
	}
	out := make(map[string]string, len(values))
	for k, v := range values {
		switch x := v.(type) {
		case string:
			out[k] = x
		case float64:
			out[k] = strconv.FormatFloat(x, 'f', -1, 64)
		case bool:
			out[k] = strconv.FormatBool(x)
		case nil:
			out[k] = ""
		default:
			return "", nil, fmt.Errorf("outputs file %q: stack %q: output %q: want a string, got %T", name, stack, k, v)
		}
	}
	return stack, out, nil
}
