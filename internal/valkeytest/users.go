package valkeytest

import "github.com/valkey-dr/valkey-dr/internal/localvalkey"

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
	AdminUser = localvalkey.AdminUser
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

// StandardUsers returns the users every server gets when Options.Users is nil.
// Tests that need one more user can append to this slice and pass it.
func StandardUsers() []User {
	return []User{
		{Name: AdminUser, Password: AdminPassword, Rules: localvalkey.AdminRules},
		// CLIENT KILL is @dangerous, so it is added back after -@dangerous;
		// CLUSTER SHARDS/SLOTS/INFO are not dangerous but are listed to make
		// the dependency of valkey-go's cluster mode on them explicit.
		{Name: AppUser, Password: AppPassword, Rules: "on ~* &* +@all -@dangerous +cluster|shards +cluster|slots +cluster|info +client|kill +client|id"},
		{Name: NoClusterUser, Password: NoClusterPassword, Rules: "on ~* &* +@all -cluster"},
		{Name: ReadOnlyUser, Password: ReadOnlyPassword, Rules: "on ~* &* -@all +@read +@connection +cluster|shards +cluster|slots +cluster|info +ping +hello +client|id"},
	}
}

// withAdmin applies the Options.Users defaults: nil means StandardUsers(), and the standard
// admin (AdminPassword) is added when missing, so tests can always rely on AdminPassword.
func withAdmin(users []User) []User {
	if users == nil {
		return StandardUsers()
	}
	for _, u := range users {
		if u.Name == AdminUser {
			return users
		}
	}
	return append(append([]User{}, users...), StandardUsers()[0])
}
