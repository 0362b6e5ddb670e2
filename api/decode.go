package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/cohub/cohub/rooms"
)

// maxBody bounds every request body.
const maxBody = 1 << 20

// readBody reads at most maxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, errTooLarge
	}
	return b, err
}

// decode reads a JSON object strictly: unknown fields, keys given twice
// or in another case than the field's, and wrong types are validation
// errors naming the field; broken JSON is malformed_json.
func decode(w http.ResponseWriter, r *http.Request, v any) ([]byte, error) {
	b, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	return b, decodeBytes(b, v)
}

// decodeOptional accepts an empty body or {} for action POSTs.
func decodeOptional(w http.ResponseWriter, r *http.Request) error {
	b, err := readBody(w, r)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return err
	}
	var empty struct{}
	return decodeBytes(b, &empty)
}

func decodeBytes(b []byte, v any) error {
	if !json.Valid(b) {
		return errMalformed
	}
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return invalid("", "the body must be a JSON object")
	}
	if err := checkKeys(b, reflect.TypeOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		return invalid(typeErr.Field, "must be a "+jsonKind(typeErr.Type))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// checkKeys names unknown keys first; this is the backstop.
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalid(name, "unknown field")
	}
	// A field's own decoder refused its value (a duration, say): name the
	// field by finding where that value stands.
	return invalid(locateBadValue(b), err.Error())
}

// jsonFields maps a struct's JSON names (embedded structs flattened) to
// their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case f.Anonymous && name == "":
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
		case name == "":
			out[f.Name] = f.Type
		default:
			out[name] = f.Type
		}
	}
	return out
}

func invalid(field, msg string) error {
	if field == "" {
		field = "body"
	}
	return &rooms.ValidationError{Fields: map[string]string{field: msg}}
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Struct, reflect.Map:
		return "object"
	default:
		return "number"
	}
}

// locateBadValue finds the first duration-like field whose value does not
// parse; the field decoders only say what is wrong, not where.
func locateBadValue(b []byte) string {
	var m any
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	return findBad(m, "")
}

func findBad(v any, path string) string {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			p := joinPath(path, k)
			if isDurationField(k) && !validDuration(val) {
				return p
			}
			if found := findBad(val, p); found != "" {
				return found
			}
		}
	case []any:
		for i, val := range x {
			if found := findBad(val, fmt.Sprintf("%s[%d]", path, i)); found != "" {
				return found
			}
		}
	}
	return ""
}

func isDurationField(k string) bool {
	return k == "duration" || strings.HasSuffix(k, "_after") || strings.HasSuffix(k, "_duration")
}

func validDuration(v any) bool {
	b, _ := json.Marshal(v)
	var d rooms.Duration
	return d.UnmarshalJSON(b) == nil
}

// joinPath names key k of the object at path. The empty key is named
// `""`, so that no field is named by an empty path.
func joinPath(path, k string) string {
	if k == "" {
		k = `""`
	}
	if path == "" {
		return k
	}
	return path + "." + k
}

// requireAll refuses a PUT body that leaves out any field of v's type:
// a PUT takes the whole object. Read-only fields such as id aside, and
// fields tagged omitempty or put:"optional": a field that some values of
// its object ignore (end_session_access.duration for none and full) is
// tagged so, and the domain's validation requires it where it counts.
func requireAll(b []byte, v any, readOnly ...string) error {
	// It reads the body on its own, so it refuses what decode refuses
	// rather than trusting that decode ran first.
	if err := checkKeys(b, reflect.TypeOf(v)); err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return errMalformed
	}
	missing := map[string]string{}
	walkRequired(reflect.TypeOf(v), m, "", readOnly, missing)
	if len(missing) > 0 {
		return &rooms.ValidationError{Fields: missing}
	}
	return nil
}

func walkRequired(t reflect.Type, m map[string]any, path string, readOnly []string, missing map[string]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && name == "" {
			walkRequired(f.Type, m, path, readOnly, missing)
			continue
		}
		p := joinPath(path, name)
		if strings.Contains(opts, "omitempty") || f.Tag.Get("put") == "optional" || slices.Contains(readOnly, p) {
			continue
		}
		val, ok := m[name]
		if !ok {
			missing[p] = "is required: a PUT takes the whole object"
			continue
		}
		if sub, isObj := val.(map[string]any); isObj && f.Type.Kind() == reflect.Struct {
			walkRequired(f.Type, sub, p, readOnly, missing)
		}
	}
}
