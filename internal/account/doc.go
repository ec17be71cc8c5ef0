// Package account is the connected-apps page, SMART's management_endpoint:
// a signed-in person sees every app that holds access to their data — the
// access in the same plain words as the consent page, when it was given,
// when and how it was last used, whether it continues when they are not
// using the app and until when — ends any of them at once after a
// confirmation, and reads the history of ended access with the reason in
// plain words. Reminders about connected apps are shown and dismissed
// here.
//
// It is imported by internal/server only; it meets the authorization
// server through the small AccessEnder interface.
package account
