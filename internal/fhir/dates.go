package fhir

import (
	"errors"
	"strings"
	"time"
)

var errBadDate = errors.New("not a FHIR date, dateTime or instant")

// dateRange parses a FHIR date, dateTime or instant (partial forms such
// as "2019" and "2019-05" included) into the inclusive range of instants it
// covers, to the microsecond. Values without a time zone are taken as UTC.
func dateRange(s string) (lo, hi time.Time, err error) {
	var next func(time.Time) time.Time
	switch len(s) {
	case 4:
		lo, err = time.Parse("2006", s)
		next = func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }
	case 7:
		lo, err = time.Parse("2006-01", s)
		next = func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	case 10:
		lo, err = time.Parse("2006-01-02", s)
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	default:
		var unit time.Duration
		lo, unit, err = parseDateTime(s)
		next = func(t time.Time) time.Time { return t.Add(unit) }
	}
	if err != nil {
		return time.Time{}, time.Time{}, errBadDate
	}
	lo = lo.UTC()
	return lo, next(lo).Add(-time.Microsecond), nil
}

// parseDateTime parses "YYYY-MM-DDThh:mm[:ss[.fff]][Z|±hh:mm]" and returns
// the instant and the precision it was given with.
func parseDateTime(s string) (time.Time, time.Duration, error) {
	if len(s) < 16 || s[10] != 'T' {
		return time.Time{}, 0, errBadDate
	}
	date, clock := s[:10], s[11:]
	zone := "Z"
	if strings.HasSuffix(clock, "Z") {
		clock = clock[:len(clock)-1]
	} else if n := len(clock); n > 6 && (clock[n-6] == '+' || clock[n-6] == '-') {
		clock, zone = clock[:n-6], clock[n-6:]
	}
	var layout string
	var unit time.Duration
	switch {
	case len(clock) == 5:
		layout, unit = "15:04", time.Minute
	case len(clock) == 8:
		layout, unit = "15:04:05", time.Second
	case len(clock) > 9 && len(clock) <= 18 && clock[8] == '.':
		layout, unit = "15:04:05.999999999", time.Second
		for range len(clock) - 9 {
			unit /= 10
		}
		unit = max(unit, time.Microsecond)
	default:
		return time.Time{}, 0, errBadDate
	}
	t, err := time.Parse("2006-01-02T"+layout+"Z07:00", date+"T"+clock+zone)
	if err != nil {
		return time.Time{}, 0, errBadDate
	}
	return t, unit, nil
}
