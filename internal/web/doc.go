// Package web owns smartlaunch's browser pages: the embedded HTML templates
// and style sheet, rendering into a buffer before anything is written, the
// security headers every page carries, and the fixed-text error page.
//
// Feature packages (consent, and later account and ehr) import it; it
// imports only the standard library.
package web
