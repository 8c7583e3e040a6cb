package repotest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The docs name only files the repository has, link only to headings that exist, and cite the
// project's own design document, never a design note a maintainer does not have.

var (
	mdLink  = regexp.MustCompile(`\]\(([^)\s#]*)(#[^)\s]*)?\)`)
	heading = regexp.MustCompile(`(?m)^#+ (.*)$`)
	// staleDesign is how an outside design note was cited before docs/design.md.
	staleDesign = regexp.MustCompile(`\bDESIGN(\.md)?\b|\.\./shared/`)
)

// anchor is GitHub's anchor of a heading.
func anchor(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	h = regexp.MustCompile(`[^\p{L}\p{N}\- _]`).ReplaceAllString(h, "")
	return strings.ReplaceAll(h, " ", "-")
}

func trackedFiles(t *testing.T, root string, patterns ...string) []string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", root, "ls-files", "--"}, patterns...)...).Output()
	if err != nil {
		t.Skipf("git ls-files: %v (not a git checkout)", err)
	}
	return strings.Fields(string(out))
}

func TestDocsLinkOnlyWhatExists(t *testing.T) {
	root := RepoRoot(t)
	docs := trackedFiles(t, root, "*.md")
	if len(docs) < 5 {
		t.Fatalf("found %d markdown files: the walk is wrong", len(docs))
	}
	links := 0
	for _, doc := range docs {
		b, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(b), -1) {
			target, frag := m[1], strings.TrimPrefix(m[2], "#")
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			links++
			file := filepath.Join(root, filepath.Dir(doc), target)
			if target == "" {
				file = filepath.Join(root, doc)
			}
			body, err := os.ReadFile(file)
			if err != nil {
				if fi, serr := os.Stat(file); serr == nil && fi.IsDir() {
					continue
				}
				t.Errorf("%s links to %s, which the repository does not have", doc, m[1])
				continue
			}
			if frag == "" || !strings.HasSuffix(file, ".md") {
				continue
			}
			found := false
			for _, h := range heading.FindAllStringSubmatch(string(body), -1) {
				found = found || anchor(h[1]) == frag
			}
			if !found {
				t.Errorf("%s links to %s#%s, a heading %s does not have", doc, target, frag, target)
			}
		}
	}
	if links < 20 {
		t.Fatalf("checked %d links: the pattern is wrong", links)
	}
}

func TestNothingCitesAnOutsideDesignNote(t *testing.T) {
	root := RepoRoot(t)
	for _, f := range trackedFiles(t, root, "*.go", "*.md", "Makefile", "*.sh") {
		if f == "docs/design.md" || f == "internal/repotest/docs_test.go" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if loc := staleDesign.FindIndex(b); loc != nil {
			line := strings.Count(string(b[:loc[0]]), "\n") + 1
			t.Errorf("%s:%d cites %q: cite docs/design.md (the project's own design document)", f, line, b[loc[0]:loc[1]])
		}
	}
}
