// Package layering holds no code: its test enforces the dependency rules of
// DESIGN.md §3 (imports flow cmd → server → features → {keys, web, …} →
// store → smart; feature packages never import each other; smart and
// client never import internal packages) and that every package has a
// doc.go.
package layering
