package reminders

import (
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// catalog is the text of the email digest in one language. Placeholders:
// {app} the app's name, {date} when access was granted (or ended, for
// security), {used} when the app last used it.
type catalog struct {
	subject, greeting, intro string
	offlineGranted           string
	reviewHead, reviewItem   string
	reviewItemNever          string
	reviewDormant            string
	dormant, security        string
	manage, footer           string
	// dateFormat places {d}, {month} and {y}; day1 replaces {d} on the
	// first of the month when set (French "1er").
	dateFormat, day1 string
	months           [12]string
}

// languages returns the digest's languages, English first (the
// fallback), indexed like catalogs.
func languages() []language.Tag {
	return []language.Tag{language.English, language.Spanish, language.French, language.German}
}

// catalogs returns the catalogs, indexed like languages.
func catalogs() []catalog {
	return []catalog{{
		subject:         "Reminder: apps that can get your health record",
		greeting:        "Hello,",
		intro:           "Here is a reminder about the apps that can get your health record.",
		offlineGranted:  "{app} can now get your health record even when you are not using it. You allowed this on {date}.",
		reviewHead:      "Please check that you still want these apps to get your health record when you are not using them:",
		reviewItem:      "- {app}: allowed on {date}, last used on {used}.",
		reviewItemNever: "- {app}: allowed on {date}, not used yet.",
		reviewDormant:   "  It has not been used for a long time. If you no longer use it, end its access.",
		dormant:         "{app} can get your health record when you are not using it, but it has not used it since {used}. If you no longer use this app, end its access.",
		security:        "For your safety, we stopped the access of {app} on {date}: a sign-in token of this app was used twice. If you still use the app, connect it again.",
		manage:          "See and end each app's access here:",
		footer:          "You can snooze or dismiss these reminders on that page. This is an automatic message; please do not reply.",
		dateFormat:      "{month} {d}, {y}",
		months: [12]string{"January", "February", "March", "April", "May", "June",
			"July", "August", "September", "October", "November", "December"},
	}, {
		subject:         "Recordatorio: aplicaciones que pueden obtener su historia clínica",
		greeting:        "Hola:",
		intro:           "Le recordamos qué aplicaciones pueden obtener su historia clínica.",
		offlineGranted:  "{app} ahora puede obtener su historia clínica incluso cuando usted no la está usando. Lo autorizó el {date}.",
		reviewHead:      "Compruebe que todavía quiere que estas aplicaciones obtengan su historia clínica cuando usted no las usa:",
		reviewItem:      "- {app}: autorizada el {date}, usada por última vez el {used}.",
		reviewItemNever: "- {app}: autorizada el {date}, todavía sin usar.",
		reviewDormant:   "  Hace mucho tiempo que no se usa. Si ya no la usa, retire su acceso.",
		dormant:         "{app} puede obtener su historia clínica cuando usted no la usa, pero no la ha usado desde el {used}. Si ya no usa esta aplicación, retire su acceso.",
		security:        "Por su seguridad, detuvimos el acceso de {app} el {date}: un token de inicio de sesión de esta aplicación se usó dos veces. Si todavía usa la aplicación, vuelva a conectarla.",
		manage:          "Vea y retire el acceso de cada aplicación aquí:",
		footer:          "En esa página puede posponer o descartar estos recordatorios. Este es un mensaje automático; no lo responda.",
		dateFormat:      "{d} de {month} de {y}",
		months: [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio",
			"julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
	}, {
		subject:         "Rappel : applications qui peuvent obtenir votre dossier médical",
		greeting:        "Bonjour,",
		intro:           "Voici un rappel sur les applications qui peuvent obtenir votre dossier médical.",
		offlineGranted:  "{app} peut désormais obtenir votre dossier médical même lorsque vous ne l'utilisez pas. Vous l'avez autorisé le {date}.",
		reviewHead:      "Vérifiez que vous souhaitez toujours que ces applications obtiennent votre dossier médical lorsque vous ne les utilisez pas :",
		reviewItem:      "- {app} : autorisée le {date}, utilisée pour la dernière fois le {used}.",
		reviewItemNever: "- {app} : autorisée le {date}, pas encore utilisée.",
		reviewDormant:   "  Elle n'a pas été utilisée depuis longtemps. Si vous ne l'utilisez plus, mettez fin à son accès.",
		dormant:         "{app} peut obtenir votre dossier médical lorsque vous ne l'utilisez pas, mais ne l'a pas fait depuis le {used}. Si vous n'utilisez plus cette application, mettez fin à son accès.",
		security:        "Pour votre sécurité, nous avons arrêté l'accès de {app} le {date} : un jeton de connexion de cette application a été utilisé deux fois. Si vous utilisez toujours l'application, connectez-la à nouveau.",
		manage:          "Consultez et arrêtez l'accès de chaque application ici :",
		footer:          "Sur cette page, vous pouvez reporter ou ignorer ces rappels. Ce message est automatique ; merci de ne pas y répondre.",
		dateFormat:      "{d} {month} {y}",
		day1:            "1er",
		months: [12]string{"janvier", "février", "mars", "avril", "mai", "juin",
			"juillet", "août", "septembre", "octobre", "novembre", "décembre"},
	}, {
		subject:         "Erinnerung: Apps, die Ihre Gesundheitsakte abrufen können",
		greeting:        "Guten Tag,",
		intro:           "Hier eine Erinnerung an die Apps, die Ihre Gesundheitsakte abrufen können.",
		offlineGranted:  "{app} kann Ihre Gesundheitsakte jetzt auch abrufen, wenn Sie die App nicht verwenden. Sie haben dies am {date} erlaubt.",
		reviewHead:      "Bitte prüfen Sie, ob diese Apps Ihre Gesundheitsakte weiterhin abrufen dürfen, wenn Sie sie nicht verwenden:",
		reviewItem:      "- {app}: erlaubt am {date}, zuletzt verwendet am {used}.",
		reviewItemNever: "- {app}: erlaubt am {date}, noch nie verwendet.",
		reviewDormant:   "  Sie wurde lange nicht verwendet. Wenn Sie sie nicht mehr nutzen, beenden Sie ihren Zugriff.",
		dormant:         "{app} kann Ihre Gesundheitsakte abrufen, wenn Sie die App nicht verwenden, hat das aber seit dem {used} nicht getan. Wenn Sie diese App nicht mehr verwenden, beenden Sie ihren Zugriff.",
		security:        "Zu Ihrer Sicherheit haben wir den Zugriff von {app} am {date} beendet: Ein Anmeldetoken dieser App wurde zweimal verwendet. Wenn Sie die App noch nutzen, verbinden Sie sie erneut.",
		manage:          "Hier sehen und beenden Sie den Zugriff jeder App:",
		footer:          "Auf dieser Seite können Sie diese Erinnerungen zurückstellen oder erledigen. Dies ist eine automatische Nachricht; bitte antworten Sie nicht.",
		dateFormat:      "{d}. {month} {y}",
		months: [12]string{"Januar", "Februar", "März", "April", "Mai", "Juni",
			"Juli", "August", "September", "Oktober", "November", "Dezember"},
	}}
}

// date writes t's calendar day, in UTC, in the catalog's language.
func (c catalog) date(t time.Time) string {
	t = t.UTC()
	d := strconv.Itoa(t.Day())
	if t.Day() == 1 && c.day1 != "" {
		d = c.day1
	}
	return strings.NewReplacer("{d}", d, "{month}", c.months[t.Month()-1],
		"{y}", strconv.Itoa(t.Year())).Replace(c.dateFormat)
}
