package static

import (
	"errors"
	"path"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// minify shrinks our own modules and styles once, as the binary starts,
// so a phone on a slow network loads less and neither the build nor the
// tests need Node. The vendored files ship minified already.
func minify(name string, src []byte) ([]byte, error) {
	if strings.HasPrefix(name, "vendor/") {
		return src, nil
	}
	var loader api.Loader
	switch path.Ext(name) {
	case ".js":
		loader = api.LoaderJS
	case ".css":
		loader = api.LoaderCSS
	default:
		return src, nil
	}
	r := api.Transform(string(src), api.TransformOptions{
		Loader: loader, Format: formatOf(loader),
		MinifyWhitespace: true, MinifySyntax: true, MinifyIdentifiers: true, LegalComments: api.LegalCommentsNone,
		Sourcefile: name,
	})
	if len(r.Errors) > 0 {
		e := r.Errors[0]
		return nil, errors.New(name + ": " + e.Text)
	}
	return r.Code, nil
}

func formatOf(l api.Loader) api.Format {
	if l == api.LoaderJS {
		return api.FormatESModule
	}
	return api.FormatDefault
}
