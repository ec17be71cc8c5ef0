// Package docs owns smartlaunch's published consent design documentation
// assets, embedded so the server can serve them: the page template
// (consent.html) and its style sheet (consent.css), the JSON Schema of the
// scope description metadata (scope-metadata.schema.json), and the
// screenshots of the real consent and connected-apps pages
// (screenshots/*.png, produced by a headless-Chromium test; see
// screenshots/README.md).
//
// The texts themselves are not here: the page and the metadata are filled
// from package scopetext when the server starts, so consent, discovery and
// documentation never disagree. internal/consentdocs serves these assets;
// any package may import this one. It imports only the standard library.
package docs
