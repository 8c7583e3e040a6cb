package evidence

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// kitCommit reads the commit of a DR kit (internal/dr/kit) when repo is an extracted kit: it
// has no .git, and a kit extracted inside some other checkout must not record that
// checkout's commit as the tool's.
func kitCommit(repo string) (tool, commit string, ok bool) {
	if _, err := os.Stat(filepath.Join(repo, ".git")); err == nil {
		return "", "", false
	}
	b, err := os.ReadFile(filepath.Join(repo, "manifest.json"))
	if err != nil {
		return "", "", false
	}
	var m struct {
		Schema int    `json:"kitSchema"`
		Commit string `json:"commit"`
		Dirty  bool   `json:"dirty"`
	}
	if json.Unmarshal(b, &m) != nil || m.Schema == 0 || m.Commit == "" {
		return "", "", false
	}
	tool = "kit " + m.Commit
	if m.Dirty {
		tool += "-dirty"
	}
	return tool, m.Commit, true
}
