package localvalkey

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// AdminUser is the user the launcher itself authenticates as (readiness probes, CLUSTER
// CREATE, Do). It is added with a random password when Options.Users lacks it.
const AdminUser = "admin"

// AdminRules are the ACL rules of an added admin user.
const AdminRules = "on ~* &* +@all"

// User is one ACL user written into the server's config file.
type User struct {
	Name     string // ACL user name, without spaces
	Password string // plaintext password; it goes only into a 0600 config file
	Rules    string // ACL rules after the password, e.g. "on ~* &* +@all"
}

// passwordAlphabet has no characters that need quoting in a config file, a shell or a URL.
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// NewPassword returns a random password of n characters (crypto/rand). ElastiCache requires
// 16 to 128 characters; n below 16 is raised to 16 so a stand-in is never weaker than AWS.
func NewPassword(n int) (string, error) {
	if n < 16 {
		n = 16
	}
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("localvalkey: random password: %w", err)
	}
	for i := range b {
		// 256 % 57 != 0 gives a bias of < 1/57 per character: irrelevant for a throwaway
		// password of 32 characters.
		b[i] = passwordAlphabet[int(b[i])%len(passwordAlphabet)]
	}
	return string(b), nil
}

// resolveUsers checks the users and returns them with the admin password the launcher must
// use; an admin with a random password is added when missing.
func resolveUsers(users []User) ([]User, string, error) {
	out := make([]User, 0, len(users)+1)
	adminPass := ""
	for _, u := range users {
		if u.Name == "" || strings.ContainsAny(u.Name, " \t\r\n\"'") {
			return nil, "", fmt.Errorf("localvalkey: user name %q: must be non-empty without spaces or quotes", u.Name)
		}
		if strings.ContainsAny(u.Password, "\r\n") {
			return nil, "", fmt.Errorf("localvalkey: password of user %q: must not contain line breaks", u.Name)
		}
		if u.Name == "default" {
			return nil, "", fmt.Errorf("localvalkey: user %q: the default user is always disabled, like ElastiCache with RBAC", u.Name)
		}
		if u.Name == AdminUser {
			adminPass = u.Password
		}
		out = append(out, u)
	}
	if adminPass == "" {
		p, err := NewPassword(32)
		if err != nil {
			return nil, "", err
		}
		out = append(out, User{Name: AdminUser, Password: p, Rules: AdminRules})
		adminPass = p
	}
	return out, adminPass, nil
}

// aclLines renders the users as config-file directives. Name and password are quoted so a
// password with spaces or '#' survives the config tokenizer.
func aclLines(users []User) []string {
	lines := []string{"user default off"}
	for _, u := range users {
		lines = append(lines, fmt.Sprintf("user %s %s %s", quoteConf(u.Name), quoteConf(">"+u.Password), u.Rules))
	}
	return lines
}

// quoteConf quotes s for the valkey config tokenizer (sdssplitargs).
func quoteConf(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}
