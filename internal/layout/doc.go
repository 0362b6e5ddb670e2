// Package layout holds the tests that keep the house's shape: short
// files, small types, one protocol client, and no storage engine in the
// domain or the hub (docs/DESIGN.md §2, "Where things live").
package layout
