package rpc

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// A JSON-schema validator for the subset the Execution API's OpenRPC document
// uses. A keyword it does not know is an error, so that a schema can never
// pass by being silently half-checked.

var (
	annotationKeywords = []string{"title", "description", "$comment", "default", "examples", "name", "deprecated"}
	patternCache       sync.Map // string -> *regexp.Regexp
)

type schemaValidator struct {
	root map[string]any // the whole document, for $ref
}

func compilePattern(p string) (*regexp.Regexp, error) {
	if re, ok := patternCache.Load(p); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, err
	}
	patternCache.Store(p, re)
	return re, nil
}

// jsonType names the JSON type of a value decoded by encoding/json into any.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func typeMatches(want string, v any) bool {
	have := jsonType(v)
	if want == "integer" {
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	}
	return want == have
}

// validate checks v against s; path names the position for the error.
func (sv *schemaValidator) validate(s map[string]any, v any, path string) error {
	for key, kv := range s {
		if slices.Contains(annotationKeywords, key) {
			continue
		}
		if err := sv.keyword(s, key, kv, v, path); err != nil {
			return err
		}
	}
	return nil
}

func (sv *schemaValidator) keyword(s map[string]any, key string, kv any, v any, path string) error {
	switch key {
	case "$ref":
		ref, _ := kv.(string)
		target, err := sv.resolve(ref)
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		return sv.validate(target, v, path)
	case "type":
		switch t := kv.(type) {
		case string:
			if !typeMatches(t, v) {
				return fmt.Errorf("%s: want %s, have %s", path, t, jsonType(v))
			}
		case []any:
			for _, one := range t {
				if s, ok := one.(string); ok && typeMatches(s, v) {
					return nil
				}
			}
			return fmt.Errorf("%s: want one of %v, have %s", path, t, jsonType(v))
		default:
			return fmt.Errorf("%s: bad type keyword %v", path, kv)
		}
	case "pattern":
		str, ok := v.(string)
		if !ok {
			return nil
		}
		re, err := compilePattern(kv.(string))
		if err != nil {
			return fmt.Errorf("%s: bad pattern: %v", path, err)
		}
		if !re.MatchString(str) {
			return fmt.Errorf("%s: %q does not match %s", path, str, kv)
		}
	case "enum":
		for _, e := range kv.([]any) {
			if jsonEqual(e, v) {
				return nil
			}
		}
		return fmt.Errorf("%s: %v not in enum %v", path, v, kv)
	case "const":
		if !jsonEqual(kv, v) {
			return fmt.Errorf("%s: %v != const %v", path, v, kv)
		}
	case "minimum", "maximum":
		f, ok := v.(float64)
		if !ok {
			return nil
		}
		bound := kv.(float64)
		if (key == "minimum" && f < bound) || (key == "maximum" && f > bound) {
			return fmt.Errorf("%s: %v violates %s %v", path, f, key, bound)
		}
	case "required":
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, r := range kv.([]any) {
			if _, present := obj[r.(string)]; !present {
				return fmt.Errorf("%s: missing required %q", path, r)
			}
		}
	case "properties":
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for name, sub := range kv.(map[string]any) {
			if fv, present := obj[name]; present {
				if err := sv.validate(sub.(map[string]any), fv, path+"."+name); err != nil {
					return err
				}
			}
		}
	case "patternProperties":
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for pat, sub := range kv.(map[string]any) {
			re, err := compilePattern(pat)
			if err != nil {
				return fmt.Errorf("%s: bad pattern: %v", path, err)
			}
			for name, fv := range obj {
				if re.MatchString(name) {
					if err := sv.validate(sub.(map[string]any), fv, path+"."+name); err != nil {
						return err
					}
				}
			}
		}
	case "additionalProperties":
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		props, _ := s["properties"].(map[string]any)
		pats, _ := s["patternProperties"].(map[string]any)
		for name, fv := range obj {
			if _, known := props[name]; known {
				continue
			}
			matched := false
			for pat := range pats {
				if re, err := compilePattern(pat); err == nil && re.MatchString(name) {
					matched = true
				}
			}
			if matched {
				continue
			}
			switch a := kv.(type) {
			case bool:
				if !a {
					return fmt.Errorf("%s: unexpected property %q", path, name)
				}
			case map[string]any:
				if err := sv.validate(a, fv, path+"."+name); err != nil {
					return err
				}
			}
		}
	case "items":
		arr, ok := v.([]any)
		if !ok {
			return nil
		}
		sub, ok := kv.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: tuple items unsupported", path)
		}
		for i, e := range arr {
			if err := sv.validate(sub, e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case "oneOf", "anyOf":
		var errs []string
		matches := 0
		for i, sub := range kv.([]any) {
			if err := sv.validate(sub.(map[string]any), v, path); err != nil {
				errs = append(errs, fmt.Sprintf("[%d] %v", i, err))
			} else {
				matches++
			}
		}
		if matches == 0 {
			return fmt.Errorf("%s: matches no %s branch: %s", path, key, strings.Join(errs, "; "))
		}
		if key == "oneOf" && matches > 1 {
			return fmt.Errorf("%s: matches %d oneOf branches", path, matches)
		}
	case "allOf":
		for _, sub := range kv.([]any) {
			if err := sv.validate(sub.(map[string]any), v, path); err != nil {
				return err
			}
		}
	case "not":
		if sv.validate(kv.(map[string]any), v, path) == nil {
			return fmt.Errorf("%s: matches a 'not' schema", path)
		}
	default:
		return fmt.Errorf("%s: unsupported schema keyword %q", path, key)
	}
	return nil
}

// resolve follows a local "#/a/b" reference.
func (sv *schemaValidator) resolve(ref string) (map[string]any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("unsupported $ref %q", ref)
	}
	var cur any = sv.root
	for _, part := range strings.Split(ref[2:], "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q: not an object at %q", ref, part)
		}
		if cur, ok = m[part]; !ok {
			return nil, fmt.Errorf("$ref %q: no %q", ref, part)
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("$ref %q is not a schema", ref)
	}
	return m, nil
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestSchemaValidator(t *testing.T) {
	doc := map[string]any{"components": map[string]any{"schemas": map[string]any{
		"uint": map[string]any{"type": "string", "pattern": "^0x(0|[1-9a-f][0-9a-f]*)$"},
	}}}
	sv := &schemaValidator{root: doc}
	ref := map[string]any{"$ref": "#/components/schemas/uint"}
	obj := map[string]any{
		"type":                 "object",
		"required":             []any{"a"},
		"properties":           map[string]any{"a": ref, "b": map[string]any{"type": "boolean"}},
		"additionalProperties": false,
	}
	nullable := map[string]any{"oneOf": []any{map[string]any{"type": "null"}, ref}}
	list := map[string]any{"type": "array", "items": map[string]any{"type": "integer", "minimum": 0.0, "maximum": 1.0}}
	tests := []struct {
		name   string
		schema map[string]any
		value  string
		ok     bool
	}{
		{"quantity", ref, `"0x1a"`, true},
		{"leading zero", ref, `"0x01"`, false},
		{"uppercase hex", ref, `"0x1A"`, false},
		{"number for string", ref, `26`, false},
		{"object ok", obj, `{"a":"0x0","b":true}`, true},
		{"missing required", obj, `{"b":true}`, false},
		{"extra property", obj, `{"a":"0x0","c":1}`, false},
		{"nested bad", obj, `{"a":"0x0","b":"yes"}`, false},
		{"oneOf null", nullable, `null`, true},
		{"oneOf value", nullable, `"0x5"`, true},
		{"oneOf none", nullable, `false`, false},
		{"items ok", list, `[0,1,1]`, true},
		{"items above maximum", list, `[0,2]`, false},
		{"items not integer", list, `[0.5]`, false},
		{"enum", map[string]any{"enum": []any{"latest", "safe"}}, `"safe"`, true},
		{"not in enum", map[string]any{"enum": []any{"latest", "safe"}}, `"pending"`, false},
		{"unknown keyword", map[string]any{"format": "date"}, `"x"`, false},
		{"oneOf ambiguous", map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"pattern": "^0x"}}}, `"0x1"`, false},
	}
	for _, tt := range tests {
		var v any
		if err := json.Unmarshal([]byte(tt.value), &v); err != nil {
			t.Fatal(err)
		}
		err := sv.validate(tt.schema, v, "$")
		if (err == nil) != tt.ok {
			t.Errorf("%s: validate(%s) = %v, want ok=%v", tt.name, tt.value, err, tt.ok)
		}
	}
}
