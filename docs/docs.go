package docs

import "embed"

// FS holds the documentation assets: consent.html (an html/template),
// consent.css, scope-metadata.schema.json and screenshots/ (the PNGs
// Screenshots names, when they have been generated, and a README).
//
//go:embed consent.html consent.css scope-metadata.schema.json screenshots
var FS embed.FS

// SchemaPath is the path in FS of the scope metadata's JSON Schema.
const SchemaPath = "scope-metadata.schema.json"

// ScreenshotDir is the directory in FS that holds the screenshots.
const ScreenshotDir = "screenshots"

// Screenshot describes one screenshot the documentation shows.
type Screenshot struct {
	// Name is the file name in ScreenshotDir, such as "consent-es.png".
	Name string
	// Lang is the BCP 47 tag of the page's language.
	Lang string
	// Caption says in plain English what the screenshot shows.
	Caption string
}

// Screenshots lists the screenshots the documentation page shows, in page
// order: the consent page in each language, then the connected-apps page.
// The browser test that takes them writes exactly these names.
func Screenshots() []Screenshot {
	return []Screenshot{
		{Name: "consent-en.png", Lang: "en", Caption: "The consent page in English, as a browser set to English shows it."},
		{Name: "consent-es.png", Lang: "es", Caption: "The same request in Spanish."},
		{Name: "consent-fr.png", Lang: "fr", Caption: "The same request in French."},
		{Name: "consent-de.png", Lang: "de", Caption: "The same request in German."},
		{Name: "account-en.png", Lang: "en", Caption: "The connected-apps page, where people see which apps can reach their record and stop any of them."},
	}
}
