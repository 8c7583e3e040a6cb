package valkeytest

import "github.com/valkey-dr/valkey-dr/internal/localvalkey"

// ServerlessAccess is the access string the serverless stand-in's app user starts from (the
// stack's default); ServerlessUsers keeps its key patterns and restricts its commands to the
// ones ElastiCache Serverless supports.
const ServerlessAccess = "on ~* &* +@all -@dangerous +cluster|shards +cluster|slots +cluster|info"

// ServerlessUsers returns the users of StartServerless when Options.Users is nil: admin
// (everything: the harness's own access, DBSIZE, DEBUG, ACL changes) and app, allowed only
// the commands serverless supports (localvalkey.ServerlessSupportedCommands).
func ServerlessUsers() []User {
	return []User{
		StandardUsers()[0],
		{Name: AppUser, Password: AppPassword, Rules: localvalkey.ServerlessRules(ServerlessAccess)},
	}
}
