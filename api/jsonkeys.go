package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/cohub/cohub/rooms"
)

// checkKeys refuses, by JSON path, the keys encoding/json lets through
// without a word: a key given twice (the last one silently wins), a key
// that matches a field only when case is ignored ("MODE" fills "mode"),
// and unknown keys (all of them, where the decoder names only the first).
// t is the Go type the body decodes into; nil checks duplicates only.
//
// It walks the body with encoding/json's Decoder.Token rather than
// decoding with github.com/go-json-experiment/json, which refuses both by
// default: the decoding itself stays encoding/json's, so wrong types,
// the types' own UnmarshalJSON, null and defaults filled before decoding
// behave exactly as before, and no pre-1.0 API becomes a direct
// dependency. The body is small (1 MiB at most) and already valid JSON,
// hence nested at most 10,000 deep (encoding/json's limit): the walk's
// recursion is bounded.
func checkKeys(b []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // numbers are skipped, never parsed to floats
	bad := map[string]string{}
	if err := walkKeys(dec, t, "", bad); err != nil {
		return errMalformed
	}
	if len(bad) > 0 {
		return &rooms.ValidationError{Fields: bad}
	}
	return nil
}

// walkKeys reads one JSON value standing at path.
func walkKeys(dec *json.Decoder, t reflect.Type, path string, bad map[string]string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		return walkObject(dec, t, path, bad)
	case json.Delim('['):
		elem := elemType(t)
		for i := 0; dec.More(); i++ {
			if err := walkKeys(dec, elem, fmt.Sprintf("%s[%d]", path, i), bad); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ]
		return err
	}
	return nil
}

// walkObject reads an object's members after its opening brace.
func walkObject(dec *json.Decoder, t reflect.Type, path string, bad map[string]string) error {
	shape := objectShape(t)
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		p := joinPath(path, key)
		if seen[key] {
			note(bad, p, "appears twice")
		}
		seen[key] = true
		vt, problem := shape.member(key)
		if problem != "" {
			note(bad, p, problem)
		}
		if err := walkKeys(dec, vt, p, bad); err != nil {
			return err
		}
	}
	_, err := dec.Token() // }
	return err
}

// shape is what an object's keys may be: a struct's exact JSON names
// (fields non-nil), or any key with values of one type (a map, or an
// opaque value such as any or a type with its own UnmarshalJSON).
type shape struct {
	fields map[string]reflect.Type
	values reflect.Type
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

func objectShape(t reflect.Type) shape {
	t = deref(t)
	switch {
	case t == nil || reflect.PointerTo(t).Implements(unmarshaler):
		return shape{}
	case t.Kind() == reflect.Struct:
		return shape{fields: jsonFields(t)}
	case t.Kind() == reflect.Map:
		return shape{values: t.Elem()}
	}
	return shape{} // the wrong type: the decoder names it
}

// member returns the type of key's value, and what is wrong with key.
func (s shape) member(key string) (reflect.Type, string) {
	if s.fields == nil {
		return s.values, ""
	}
	if ft, ok := s.fields[key]; ok {
		return ft, ""
	}
	// encoding/json would fill the field whose name folds to the key's.
	for name := range s.fields {
		if strings.EqualFold(name, key) {
			return nil, fmt.Sprintf("unknown field (did you mean %q?)", name)
		}
	}
	return nil, "unknown field"
}

// elemType is the type of a list's items, nil when t is no list.
func elemType(t reflect.Type) reflect.Type {
	t = deref(t)
	if t == nil || reflect.PointerTo(t).Implements(unmarshaler) {
		return nil
	}
	if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		return t.Elem()
	}
	return nil
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// note keeps the first problem found at a path.
func note(bad map[string]string, path, msg string) {
	if _, ok := bad[path]; !ok {
		bad[path] = msg
	}
}
