package drcontext

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Decoding is two passes over the same JSON. A shape walk, driven by the json tags of
// Environment, reports EVERY unknown key and wrong type with its full key path (encoding/json
// stops at the first one and its unknown-field error names no path). Then encoding/json with
// DisallowUnknownFields does the actual decode, as a second line of defence.

// snapshotsOutOfScope is said wherever a user reaches for snapshots (drMode or a key).
const snapshotsOutOfScope = "snapshots are out of scope of the stateless DR runbook: the DR cache is always created empty"

// toJSON turns a context value into JSON bytes. A string (or bytes) is taken to be JSON
// already: that is how an object arrives through `--context environments=...`. Pointers are
// followed because jsii may hand back *string and friends.
func toJSON(v any) ([]byte, error) {
	v = deref(v)
	switch t := v.(type) {
	case string:
		return []byte(t), nil
	case []byte:
		return t, nil
	case json.RawMessage:
		return t, nil
	}
	return json.Marshal(v)
}

// deref follows pointers so that *string from jsii reads like string; a nil pointer is absent.
func deref(v any) any {
	for v != nil {
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Pointer {
			return v
		}
		if rv.IsNil() {
			return nil
		}
		v = rv.Elem().Interface()
	}
	return nil
}

// decodeJSON parses exactly one JSON value, numbers kept as json.Number so that the shape walk
// sees 8 and 8.5 as written.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("unexpected data after the JSON value at offset %d", dec.InputOffset())
	}
	return v, nil
}

// table is the decoded "environments" object: the generic value for the shape walk and the
// raw JSON for encoding/json, per environment name.
type table struct {
	generic map[string]any
	raw     map[string]json.RawMessage
}

// decodeTable reads the environments object; its problems are reported on KeyEnvironments.
func decodeTable(ps *problems, v any) (*table, bool) {
	v = deref(v)
	if v == nil {
		ps.add(Problem{Key: KeyEnvironments, reason: "is not set",
			Accepted: "an object of named environments",
			Hint:     "environments live in cdk.json under context.environments"})
		return nil, false
	}
	data, err := toJSON(v)
	if err != nil {
		ps.add(Problem{Key: KeyEnvironments, reason: "cannot be read as JSON: " + err.Error(),
			Accepted: "an object of named environments"})
		return nil, false
	}
	generic, err := decodeJSON(data)
	if errors.Is(err, io.EOF) {
		ps.add(Problem{Key: KeyEnvironments, reason: "is empty", Accepted: "an object of named environments"})
		return nil, false
	}
	if err != nil {
		ps.add(Problem{Key: KeyEnvironments, Value: string(data),
			reason:   "is not valid JSON: " + strings.TrimPrefix(err.Error(), "json: "),
			Accepted: "an object of named environments"})
		return nil, false
	}
	m, ok := generic.(map[string]any)
	if !ok {
		ps.add(Problem{Key: KeyEnvironments, Value: jsonValue(generic), reason: "is " + kindOf(generic),
			Accepted: "an object of named environments"})
		return nil, false
	}
	if len(m) == 0 {
		ps.add(Problem{Key: KeyEnvironments, reason: "is empty",
			Accepted: "an object of named environments"})
		return nil, false
	}
	t := &table{generic: m}
	if err := json.Unmarshal(data, &t.raw); err != nil {
		// Unreachable: the same bytes just decoded into an object.
		ps.add(Problem{Key: KeyEnvironments, reason: "cannot be decoded: " + err.Error()})
		return nil, false
	}
	return t, true
}

// decodeEnvironment decodes one environment and validates its values. It always returns the
// best-effort Environment (wrong-typed fields left zero), so that the value rules still run on
// everything that could be read; problems on keys that already have a shape problem are
// dropped, so that a list given as a string is not also reported as "not set".
func decodeEnvironment(name string, t *table) (Environment, []Problem) {
	path := KeyEnvironments + "." + name
	var shape problems
	walk(&shape, path, t.generic[name], envType)
	for i := range shape {
		// Point "belongs under" hints at this environment, not at a placeholder.
		shape[i].Hint = strings.ReplaceAll(shape[i].Hint, "environments.<env>", path)
	}

	var env Environment
	strict := json.NewDecoder(bytes.NewReader(t.raw[name]))
	strict.DisallowUnknownFields()
	strictErr := strict.Decode(&env)
	if len(shape) == 0 && strictErr != nil {
		// The walk and encoding/json disagree: never silently accept what the decoder refused.
		shape.add(Problem{Key: path, reason: "cannot be decoded: " + strings.TrimPrefix(strictErr.Error(), "json: "),
			Accepted: "an environment object"})
	}
	if len(shape) > 0 {
		// Unmarshal carries on past type errors, leaving those fields zero.
		env = Environment{}
		_ = json.Unmarshal(t.raw[name], &env)
	}

	all := append([]Problem(nil), shape...)
	for _, p := range validateEnvironment(name, &env) {
		if !covered(p.Key, shape) {
			all = append(all, p)
		}
	}
	return env, all
}

// covered reports whether key is at or under a key that already has a shape problem.
func covered(key string, shape []Problem) bool {
	for _, s := range shape {
		if key == s.Key || strings.HasPrefix(key, s.Key+".") || strings.HasPrefix(key, s.Key+"[") {
			return true
		}
	}
	return false
}

var envType = reflect.TypeFor[Environment]()

// walk checks that v has the shape of type t: objects with known keys only, lists, strings,
// whole numbers, booleans. null is accepted everywhere (encoding/json leaves the zero value,
// which the value rules then judge).
func walk(ps *problems, path string, v any, t reflect.Type) {
	if v == nil {
		return
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	wrong := func() {
		ps.add(Problem{Key: path, Value: jsonValue(v), reason: "is " + kindOf(v), Accepted: describe(t)})
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			wrong()
			return
		}
		fields := jsonFields(t)
		for _, k := range keysOf(m) {
			f, ok := fields.byName[k]
			if !ok {
				ps.add(unknownKey(path+"."+k, k, fields.names))
				continue
			}
			walk(ps, path+"."+k, m[k], f.Type)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			wrong()
			return
		}
		for _, k := range keysOf(m) {
			walk(ps, path+"."+k, m[k], t.Elem())
		}
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			wrong()
			return
		}
		for i, e := range l {
			walk(ps, fmt.Sprintf("%s[%d]", path, i), e, t.Elem())
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			wrong()
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			wrong()
		}
	case reflect.Int:
		n, ok := v.(json.Number)
		if !ok {
			wrong()
			return
		}
		// Same test as encoding/json: a decimal integer literal that fits.
		if _, err := strconv.ParseInt(string(n), 10, strconv.IntSize); err != nil {
			why := "is out of range"
			if strings.ContainsAny(string(n), ".eE") {
				why = "is not a whole number"
			}
			ps.add(Problem{Key: path, Value: string(n), reason: why, Accepted: describe(t)})
		}
	default:
		// Config grows a field of a kind the walk does not know: fail loudly in tests.
		panic(fmt.Sprintf("context: shape walk does not handle %s at %s", t, path))
	}
}

// unknownKey reports a key no struct has, listing the keys the object accepts (in declaration
// order, the order of the docs) and, when it can tell, what the user probably meant.
func unknownKey(path, k string, accepted []string) Problem {
	p := Problem{Key: path, reason: "unknown key", Accepted: strings.Join(accepted, ", ")}
	lk := strings.ToLower(k)
	for _, a := range accepted {
		if strings.ToLower(a) == lk {
			p.Hint = fmt.Sprintf("did you mean %q? keys are case-sensitive", a)
			return p
		}
	}
	if where, ok := homes()[lk]; ok {
		p.Hint = fmt.Sprintf("%s belongs under %s", where.name, where.path)
		return p
	}
	if strings.Contains(lk, "snapshot") {
		p.Hint = snapshotsOutOfScope
	}
	return p
}

type fieldSet struct {
	names  []string
	byName map[string]reflect.StructField
}

// jsonFields lists the json names of a struct's fields in declaration order.
func jsonFields(t reflect.Type) fieldSet {
	fs := fieldSet{byName: map[string]reflect.StructField{}}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		fs.names = append(fs.names, name)
		fs.byName[name] = f
	}
	return fs
}

type home struct{ name, path string }

// homes indexes every key of the schema by lower-case name with where it lives, so that a key
// put in the wrong object (kmsKeyArn under cache: KMS keys are per region) gets a pointer.
var homes = sync.OnceValue(func() map[string]home {
	idx := map[string]home{}
	var visit func(t reflect.Type, path string)
	visit = func(t reflect.Type, path string) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Map:
			visit(t.Elem(), path+".<name>")
		case reflect.Struct:
			fs := jsonFields(t)
			for _, n := range fs.names {
				p := n
				if path != "" {
					p = path + "." + n
				}
				if _, dup := idx[strings.ToLower(n)]; !dup {
					idx[strings.ToLower(n)] = home{name: n, path: "environments.<env>." + p}
				}
				visit(fs.byName[n].Type, p)
			}
		}
	}
	visit(envType, "")
	// Regions are keyed by region, not by a free name: say so.
	for k, h := range idx {
		h.path = strings.ReplaceAll(h.path, "regions.<name>", "regions.<region>")
		idx[k] = h
	}
	return idx
})

// describe says what a Go type accepts, in JSON words.
func describe(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		return "an object with keys " + strings.Join(jsonFields(t).names, ", ")
	case reflect.Map:
		return "an object of " + plural(describe(t.Elem()))
	case reflect.Slice:
		return "a list of " + plural(describe(t.Elem()))
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "a whole number"
	}
	return t.String()
}

func plural(desc string) string {
	switch {
	case desc == "true or false":
		return "booleans"
	case strings.HasPrefix(desc, "a string"):
		return "strings"
	case strings.HasPrefix(desc, "a whole number"):
		return "whole numbers"
	case strings.HasPrefix(desc, "an object"):
		return "objects"
	case strings.HasPrefix(desc, "a list"):
		return "lists"
	}
	return desc
}

// kindOf names the JSON kind of a decoded value.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number, float64, float32, int, int64, int32, uint, uint64, uint32:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}

// jsonValue renders a decoded value for Problem.Value: strings as themselves, the rest as
// compact JSON.
func jsonValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
