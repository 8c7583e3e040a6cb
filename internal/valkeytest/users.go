package valkeytest

import (
	"fmt"
	"strings"
	"testing"
)

// Passwords of the standard users. They are constants so tests can build
// wrong-password cases from them; they are long (ElastiCache requires 16+)
// and contain no characters that need quoting in a config file or a shell.
const (
	// AdminPassword is the password of "admin", the user the harness itself uses.
	AdminPassword = "adm-Qx7Lr2Vt9Kp4Wn8Zs3Hc6Jm1"
	// AppPassword is the password of "app", the user an application would have.
	AppPassword = "app-Fd5Tg8Yh2Bn6Mk9Pw3Rs7Xe4"
	// NoClusterPassword is the password of "nocluster", which cannot run CLUSTER commands.
	NoClusterPassword = "ncl-Ua4Jz7Cq1Vb5Ny8Gt2Lk6Sd9"
	// ReadOnlyPassword is the password of "readonly", which cannot write.
	ReadOnlyPassword = "rdo-Ew3Hm6Pv9Kc2Xr5Bt8Qn1Fz4"
)

// Names of the standard users.
const (
	// AdminUser has every permission; the harness authenticates as this user.
	AdminUser = "admin"
	// AppUser has what an application needs, including CLUSTER SHARDS/SLOTS
	// (for valkey-go's cluster mode) and CLIENT KILL/ID (for reconnect checks),
	// but no other @dangerous command.
	AppUser = "app"
	// NoClusterUser lacks cluster|shards and cluster|slots: valkey-go then falls
	// back to a single-node client silently, which the validator must catch.
	NoClusterUser = "nocluster"
	// ReadOnlyUser can read and discover the topology but gets NOPERM on writes.
	ReadOnlyUser = "readonly"
)

// User is one ACL user written into the server's config file.
type User struct {
	Name     string // ACL user name, without spaces
	Password string // plaintext password; it goes only into a 0600 config file
	Rules    string // ACL rules after the password, e.g. "on ~* &* +@all"
}

// StandardUsers returns the users every server gets when Options.Users is nil.
// Tests that need one more user can append to this slice and pass it.
func StandardUsers() []User {
	return []User{
		{Name: AdminUser, Password: AdminPassword, Rules: "on ~* &* +@all"},
		// CLIENT KILL is @dangerous, so it is added back after -@dangerous;
		// CLUSTER SHARDS/SLOTS/INFO are not dangerous but are listed to make
		// the dependency of valkey-go's cluster mode on them explicit.
		{Name: AppUser, Password: AppPassword, Rules: "on ~* &* +@all -@dangerous +cluster|shards +cluster|slots +cluster|info +client|kill +client|id"},
		{Name: NoClusterUser, Password: NoClusterPassword, Rules: "on ~* &* +@all -cluster"},
		{Name: ReadOnlyUser, Password: ReadOnlyPassword, Rules: "on ~* &* -@all +@read +@connection +cluster|shards +cluster|slots +cluster|info +ping +hello +client|id"},
	}
}

// resolveUsers applies the Options.Users defaults and returns the users and
// the admin password the harness must use.
func resolveUsers(t testing.TB, users []User) ([]User, string) {
	t.Helper()
	if users == nil {
		users = StandardUsers()
	}
	out := make([]User, 0, len(users)+1)
	adminPass := ""
	for _, u := range users {
		if u.Name == "" || strings.ContainsAny(u.Name, " \t\r\n\"'") {
			t.Fatalf("valkeytest: user name %q: must be non-empty without spaces or quotes", u.Name)
		}
		if strings.ContainsAny(u.Password, "\r\n") {
			t.Fatalf("valkeytest: password of user %q: must not contain line breaks", u.Name)
		}
		if u.Name == "default" {
			t.Fatalf("valkeytest: user %q: the default user is always disabled, like ElastiCache with RBAC", u.Name)
		}
		if u.Name == AdminUser {
			adminPass = u.Password
		}
		out = append(out, u)
	}
	if adminPass == "" {
		// The harness needs admin for readiness, CLUSTER CREATE and Do.
		out = append(out, StandardUsers()[0])
		adminPass = AdminPassword
	}
	return out, adminPass
}

// aclLines renders the users as config-file directives. Name and password are
// quoted so a password with spaces or '#' survives the config tokenizer.
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
