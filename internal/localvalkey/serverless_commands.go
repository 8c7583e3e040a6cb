package localvalkey

import (
	"maps"
	"slices"
	"strings"
)

// The commands ElastiCache Serverless (Valkey) documents as supported: the serverless
// stand-in's application user may run these and nothing else, so a validator command that
// AWS refuses is refused here too.
//
// Source: https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/SupportedCommands.html
// ("Supported Valkey and Redis OSS commands ... supported by serverless caches"), read on
// 2026-12-01, together with .../ServerlessWatch.html (WATCH/UNWATCH on keys of one slot per
// connection since 2025-12). Data only: edit this list, not the code that renders it.
const (
	// SupportedCommandsSource is the AWS page the list is taken from.
	SupportedCommandsSource = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/SupportedCommands.html"
	// SupportedCommandsDate is when the list was last compared with the page.
	SupportedCommandsDate = "2026-12-01"
)

// ServerlessSupportedCommands are the ACL command names (lower case, "cmd|sub" for
// subcommands) supported on ElastiCache Serverless, grouped as the AWS page groups them.
var ServerlessSupportedCommands = map[string][]string{
	"bitmap": {"bitcount", "bitfield", "bitfield_ro", "bitop", "bitpos", "getbit", "setbit"},
	// CLUSTER SHARDS/SLOTS are how valkey-go discovers the (one-node) topology.
	"cluster": {"cluster|countkeysinslot", "cluster|getkeysinslot", "cluster|info", "cluster|keyslot",
		"cluster|myid", "cluster|nodes", "cluster|replicas", "cluster|shards", "cluster|slots",
		"readonly", "readwrite"},
	// CLIENT ID/INFO/KILL/LIST/PAUSE/NO-EVICT/TRACKING/CACHING and SETINFO are NOT here.
	"connection": {"auth", "hello", "ping", "echo", "select", "quit", "reset",
		"client|getname", "client|setname", "client|reply"},
	"generic": {"copy", "del", "dump", "exists", "expire", "expireat", "expiretime", "persist",
		"pexpire", "pexpireat", "pexpiretime", "pttl", "randomkey", "rename", "renamenx",
		"restore", "scan", "sort", "sort_ro", "touch", "ttl", "type", "unlink"},
	"geo": {"geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro",
		"georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore"},
	"hash": {"hdel", "hexists", "hget", "hgetall", "hincrby", "hincrbyfloat", "hkeys", "hlen",
		"hmget", "hmset", "hrandfield", "hscan", "hset", "hsetnx", "hstrlen", "hvals"},
	"hyperloglog": {"pfadd", "pfcount", "pfmerge"},
	"list": {"blmove", "blmpop", "blpop", "brpop", "brpoplpush", "lindex", "linsert", "llen",
		"lmove", "lmpop", "lpop", "lpos", "lpush", "lpushx", "lrange", "lrem", "lset", "ltrim",
		"rpop", "rpoplpush", "rpush", "rpushx"},
	// SUBSCRIBE/SSUBSCRIBE only: PSUBSCRIBE/PUNSUBSCRIBE are refused on serverless.
	"pubsub": {"publish", "pubsub|channels", "pubsub|numsub", "pubsub|shardchannels",
		"pubsub|shardnumsub", "spublish", "ssubscribe", "subscribe", "sunsubscribe", "unsubscribe"},
	"scripting": {"eval", "eval_ro", "evalsha", "evalsha_ro", "fcall", "fcall_ro",
		"function|delete", "function|dump", "function|flush", "function|list", "function|load",
		"function|restore", "script|exists", "script|flush", "script|load"},
	// INFO and DBSIZE are supported; CONFIG, DEBUG, KEYS, MONITOR, OBJECT, MEMORY, WAIT are not.
	"server": {"dbsize", "info", "command|count", "command|docs", "command|getkeys",
		"command|getkeysandflags", "command|info", "command|list", "lastsave", "role", "time"},
	"set": {"sadd", "scard", "sdiff", "sdiffstore", "sinter", "sintercard", "sinterstore",
		"sismember", "smembers", "smismember", "smove", "spop", "srandmember", "srem", "sscan",
		"sunion", "sunionstore"},
	"sorted-set": {"bzmpop", "bzpopmax", "bzpopmin", "zadd", "zcard", "zcount", "zdiff",
		"zdiffstore", "zincrby", "zinter", "zintercard", "zinterstore", "zlexcount", "zmpop",
		"zmscore", "zpopmax", "zpopmin", "zrandmember", "zrange", "zrangebylex",
		"zrangebyscore", "zrangestore", "zrank", "zrem", "zremrangebylex", "zremrangebyrank",
		"zremrangebyscore", "zrevrange", "zrevrangebylex", "zrevrangebyscore", "zrevrank",
		"zscan", "zscore", "zunion", "zunionstore"},
	"stream": {"xack", "xadd", "xautoclaim", "xclaim", "xdel", "xgroup|create",
		"xgroup|createconsumer", "xgroup|delconsumer", "xgroup|destroy", "xgroup|setid",
		"xinfo|consumers", "xinfo|groups", "xinfo|stream", "xlen", "xpending", "xrange", "xread",
		"xreadgroup", "xrevrange", "xtrim"},
	"string": {"append", "decr", "decrby", "get", "getdel", "getex", "getrange", "getset",
		"incr", "incrby", "incrbyfloat", "lcs", "mget", "mset", "msetnx", "psetex", "set",
		"setex", "setnx", "setrange", "strlen", "substr"},
	// WATCH/UNWATCH since 2025-12 (ServerlessWatch.html): keys of ONE slot per connection.
	"transactions": {"discard", "exec", "multi", "unwatch", "watch"},
}

// ServerlessRefusedCommands are commands the validator, watch or probe might send (or a
// library sends on its own) that serverless refuses; tests prove the stand-in refuses them.
var ServerlessRefusedCommands = []string{"client|id", "client|kill", "client|list", "client|info",
	"client|setinfo", "client|pause", "client|no-evict", "client|tracking", "client|caching",
	"config|get", "debug", "keys", "monitor", "psubscribe", "punsubscribe", "wait", "object|encoding",
	"memory|usage"}

// ServerlessSupported reports whether an ACL command name ("get", "client|id") is supported.
func ServerlessSupported(cmd string) bool {
	cmd = strings.ToLower(cmd)
	for _, cmds := range ServerlessSupportedCommands {
		for _, c := range cmds {
			if c == cmd {
				return true
			}
		}
	}
	return false
}

// ServerlessRules turns an access string (an ElastiCache user's, e.g. "on ~* &* +@all
// -@dangerous") into ACL rules for the serverless stand-in: its state and key/channel
// patterns are kept and the commands become the serverless-supported list. Serverless
// applies the user's access string AND its own command list; keeping the patterns and
// replacing the commands is that intersection for every access string that allows at least
// the supported commands (the stack's default does).
func ServerlessRules(access string) string {
	var keep []string
	for _, tok := range strings.Fields(access) {
		switch {
		case tok == "on", tok == "off", tok == "allkeys", tok == "allchannels", tok == "resetkeys",
			tok == "resetchannels", strings.HasPrefix(tok, "~"), strings.HasPrefix(tok, "%"),
			strings.HasPrefix(tok, "&"):
			keep = append(keep, tok)
		}
	}
	keep = append(keep, "-@all")
	for _, group := range slices.Sorted(maps.Keys(ServerlessSupportedCommands)) {
		for _, c := range ServerlessSupportedCommands[group] {
			keep = append(keep, "+"+c)
		}
	}
	return strings.Join(keep, " ")
}
