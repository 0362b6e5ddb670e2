package static

import (
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// bundled are the pages' entry modules served as one file each, their
// imports inlined: a phone on a slow network makes one request for the
// page's code instead of fifteen (browsers open six connections a host,
// so fifteen cost three round trips). The console is left as modules.
var bundled = map[string]bool{"js/customer.js": true, "css/customer.css": true, "css/console.css": true}

// lazy are the modules the bundles load only when needed (a PDF to read,
// a signature to draw): they stay files of their own.
var lazy = map[string]bool{"vendor/pdf.js": true, "vendor/signature_pad.js": true}

// minify shrinks our own modules and styles once, as the binary starts,
// so neither the build nor the tests need Node. The vendored files ship
// minified already.
func minify(name string, src []byte) ([]byte, error) {
	if bundled[name] {
		return bundle(name)
	}
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
		return nil, errors.New(name + ": " + r.Errors[0].Text)
	}
	return r.Code, nil
}

func formatOf(l api.Loader) api.Format {
	if l == api.LoaderJS {
		return api.FormatESModule
	}
	return api.FormatDefault
}

// bundle builds entry and what it imports, read from the embedded files,
// into one minified module.
func bundle(entry string) ([]byte, error) {
	r := api.Build(api.BuildOptions{
		EntryPoints: []string{entry}, Bundle: true, Write: false, Format: api.FormatESModule,
		MinifyWhitespace: true, MinifySyntax: true, MinifyIdentifiers: true, LegalComments: api.LegalCommentsNone,
		Outdir: "out", Plugins: []api.Plugin{embedded(path.Dir(entry))},
	})
	if len(r.Errors) > 0 {
		return nil, errors.New(entry + ": " + r.Errors[0].Text)
	}
	if len(r.OutputFiles) != 1 {
		return nil, errors.New(entry + ": the bundle is not one file")
	}
	return r.OutputFiles[0].Contents, nil
}

// embedded resolves relative imports to the embedded files; a lazy
// module stays an import, spelled relative to the bundle's own folder.
func embedded(dir string) api.Plugin {
	return api.Plugin{Name: "embedded", Setup: func(b api.PluginBuild) {
		b.OnResolve(api.OnResolveOptions{Filter: `.*`}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			p := path.Clean(a.Path)
			if a.Importer != "" {
				p = path.Join(path.Dir(a.Importer), a.Path)
			}
			if lazy[p] {
				rel := strings.Repeat("../", strings.Count(dir, "/")+1) + p
				return api.OnResolveResult{Path: rel, External: true}, nil
			}
			return api.OnResolveResult{Path: p, Namespace: "embedded"}, nil
		})
		b.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "embedded"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			src, err := fs.ReadFile(files, a.Path)
			if err != nil {
				return api.OnLoadResult{}, err
			}
			s, loader := string(src), api.LoaderJS
			if path.Ext(a.Path) == ".css" {
				loader = api.LoaderCSS
			}
			return api.OnLoadResult{Contents: &s, Loader: loader}, nil
		})
	}}
}
