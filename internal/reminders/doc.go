// Package reminders decides when to remind a user which apps can reach
// their health record, stores those reminders, and sends them as an email
// digest. Its aim is the SMART best practice "remind users which apps have
// offline access" without alert fatigue: few reminders, each one worth
// reading, none repeated once acted on.
//
// # The written policy
//
// Policy.Due applies these rules, for one user, every time it runs (the
// Service runs it for every user; once a day is enough). Times are the
// authorization's own: when it was granted (CreatedAt), last used
// (LastUsedAt, the last refresh or data request) and ended (EndedAt). An
// app with offline access is "live" until it is ended or expires.
//
//  1. Confirmation ("offline-granted"). When an app gets offline access,
//     the user gets one confirmation: "this app can now get your record
//     when you are not using it". It is the receipt of the user's own
//     action, so it is sent at once, outside the cadence of rule 6. It is
//     sent once per authorization and never again for that app (client)
//     for that user, even after a new grant. A grant first seen more than
//     Policy.ConfirmWithin after it was made (say, when reminders are first
//     turned on) gets no confirmation: the review covers it.
//
//  2. Review ("review"). Every Policy.ReviewEvery (default 182 days) the
//     user gets one reminder listing every live app with offline access.
//     The next review is due ReviewEvery after the later of (a) the
//     user's last review or standalone dormant nudge and (b) the grant of
//     the oldest live offline app; so the first review comes ReviewEvery
//     after the user's first offline grant, and nobody is asked to review
//     an app granted last week. With no live offline app, no review is due.
//
//  3. Dormant app ("dormant"). A live offline app not used for
//     Policy.DormantAfter (default 90 days; an app never used counts from
//     its grant) is "dormant", and the user is nudged about it once per
//     authorization, ever:
//     - if a review is due now, or within Policy.FoldWindow (default 30
//     days), the app is flagged in that review (Reminder.Dormant) and
//     gets no reminder of its own;
//     - otherwise, if the user had a review or a standalone dormant nudge
//     in the last ReviewEvery, the nudge waits and is flagged in the next
//     review (rule 6);
//     - otherwise one "dormant" reminder is sent now, listing every app
//     that became dormant and was not nudged yet. It counts as the
//     period's reminder: the next review comes ReviewEvery after it.
//
//  4. Security ("security"). An authorization ended because one of its
//     refresh tokens was used twice (store.EndRefreshTokenReuse) always
//     gives a reminder at once, whatever the cadence, online or offline,
//     once per authorization.
//
//  5. Acting on a reminder. The user can mark a reminder done (final: it
//     is never shown again) or snooze it: a snoozed reminder is shown
//     again, the same reminder, once its SnoozedUntil has passed (see
//     Visible). Due never creates a reminder a second time, whatever its
//     state: every rule above is "once" over the user's whole history.
//
//  6. The cadence. Reviews and standalone dormant nudges are the only
//     reminders the server starts on its own, and there is at most one of
//     them in any ReviewEvery: any two are at least ReviewEvery apart.
//     Confirmations (rule 1, one per grant the user made) and security
//     reminders (rule 4) are outside this count.
//
// # Delivery
//
// Reminders are shown in the app (Service.Pending) and, when the server
// has a Mailer and knows the user's address, sent as one plain-text email
// digest per user per run, in the user's language (English, Spanish,
// French or German), with a link to the page where access is managed. A
// digest names apps and dates only: never tokens, patients or clinical
// data. Email is a copy of the in-app notice: snoozing or finishing a
// reminder happens on the page.
//
// The package imports only the store contract. The server wires it (a
// daily RunOnce, the Mailer's AddressFunc); the account, EHR and consent
// pages show Pending reminders and call Done and Snooze through a small
// interface of their own.
package reminders
