#!/bin/sh
# Re-vendors the browser libraries the pages use, at the pinned versions
# below, from the npm registry. Only a maintainer runs it (it needs npm);
# the build and CI use the committed files.
#
#   static/vendor/revendor.sh            # from the repository root
#
# Each package's ES module build is copied as published, with two edits
# so browsers load it with no import map and no bundler: bare imports
# ("preact", "preact/hooks", "@preact/signals-core") become relative
# paths, and the sourceMappingURL comment goes (the maps are not served).
set -eu

PREACT=11.2.0
HOOKS_OF_PREACT=$PREACT
HTM=3.1.1
SIGNALS=2.11.4
SIGNALS_CORE=1.14.5
PDFJS=6.5.438
SIGNATURE_PAD=5.1.4

dir=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

npm pack --silent "preact@$PREACT" "htm@$HTM" "@preact/signals@$SIGNALS" "@preact/signals-core@$SIGNALS_CORE" \
	"pdfjs-dist@$PDFJS" "signature_pad@$SIGNATURE_PAD" >/dev/null
for pkg in "preact-$PREACT" "htm-$HTM" "preact-signals-$SIGNALS" "preact-signals-core-$SIGNALS_CORE" \
	"pdfjs-dist-$PDFJS" "signature_pad-$SIGNATURE_PAD"; do
	mkdir "$pkg"
	tar -xzf "$pkg.tgz" -C "$pkg"
done

# copy SRC DEST: one module, imports made relative.
copy() {
	sed -e 's#from"preact"#from"./preact.js"#g; s#from "preact"#from "./preact.js"#g' \
	    -e 's#from"preact/hooks"#from"./hooks.js"#g; s#from "preact/hooks"#from "./hooks.js"#g' \
	    -e 's#from"@preact/signals-core"#from"./signals-core.js"#g; s#from "@preact/signals-core"#from "./signals-core.js"#g' \
	    -e '/^\/\/# sourceMappingURL=/d' \
	    "$1" >"$dir/$2"
	if grep -Eq 'from ?"[^./]' "$dir/$2"; then
		echo "revendor: $2 still has a bare import" >&2
		exit 1
	fi
}

copy "preact-$PREACT/package/dist/preact.mjs" preact.js
copy "preact-$PREACT/package/hooks/dist/hooks.mjs" hooks.js
copy "htm-$HTM/package/dist/htm.mjs" htm.js
copy "preact-signals-core-$SIGNALS_CORE/package/dist/signals-core.mjs" signals-core.js
copy "preact-signals-$SIGNALS/package/dist/signals.mjs" signals.js
# PDF.js renders the documents customers sign; its worker is a module
# served from this origin (the pages' CSP allows no other).
copy "pdfjs-dist-$PDFJS/package/build/pdf.min.mjs" pdf.js
copy "pdfjs-dist-$PDFJS/package/build/pdf.worker.min.mjs" pdf.worker.js
copy "signature_pad-$SIGNATURE_PAD/package/dist/signature_pad.js" signature_pad.js

cp "preact-$PREACT/package/LICENSE" "$dir/LICENSE.preact"
cp "htm-$HTM/package/LICENSE" "$dir/LICENSE.htm"
cp "preact-signals-$SIGNALS/package/LICENSE" "$dir/LICENSE.preact-signals"
cp "pdfjs-dist-$PDFJS/package/LICENSE" "$dir/LICENSE.pdfjs"
cp "signature_pad-$SIGNATURE_PAD/package/LICENSE" "$dir/LICENSE.signature_pad"

cat >"$dir/VERSIONS" <<VERSIONS
preact $PREACT (preact.js, hooks.js; MIT, LICENSE.preact)
htm $HTM (htm.js; Apache-2.0, LICENSE.htm)
@preact/signals-core $SIGNALS_CORE (signals-core.js; MIT, LICENSE.preact-signals)
@preact/signals $SIGNALS (signals.js; MIT, LICENSE.preact-signals)
pdfjs-dist $PDFJS (pdf.js, pdf.worker.js; Apache-2.0, LICENSE.pdfjs)
signature_pad $SIGNATURE_PAD (signature_pad.js; MIT, LICENSE.signature_pad)
VERSIONS
echo "vendored into $dir:"
cat "$dir/VERSIONS"
