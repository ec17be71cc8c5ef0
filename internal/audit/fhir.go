package audit

import (
	"strconv"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// EventTypeSystem is the code system of smartlaunch's event types, the
// AuditEvent.subtype of every exported event.
const EventTypeSystem = "urn:smartlaunch:audit-event-type"

const (
	dicom      = "http://dicom.nema.org/resources/ontology/DCM"
	sourceType = "http://terminology.hl7.org/CodeSystem/security-source-type"
	entityType = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	roleType   = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
)

// AuditEvent is the FHIR R4 AuditEvent resource of one event, in the
// fields smartlaunch fills.
type AuditEvent struct {
	ResourceType string   `json:"resourceType"` // "AuditEvent"
	ID           string   `json:"id"`
	Meta         *Meta    `json:"meta,omitempty"`
	Type         Coding   `json:"type"`
	Subtype      []Coding `json:"subtype"`
	Action       string   `json:"action"`
	Recorded     string   `json:"recorded"`
	Outcome      Outcome  `json:"outcome"`
	OutcomeDesc  string   `json:"outcomeDesc,omitempty"`
	Agent        []Agent  `json:"agent"`
	Source       Source   `json:"source"`
	Entity       []Entity `json:"entity,omitempty"`
}

// Meta is a resource's meta element.
type Meta struct {
	LastUpdated string `json:"lastUpdated"`
}

// Coding is a FHIR Coding.
type Coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a FHIR CodeableConcept.
type CodeableConcept struct {
	Coding []Coding `json:"coding"`
	Text   string   `json:"text,omitempty"`
}

// Identifier is a FHIR Identifier.
type Identifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

// Reference is a FHIR Reference by identifier and display.
type Reference struct {
	Identifier *Identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

// Agent is an AuditEvent.agent: the person or the app.
type Agent struct {
	Type      *CodeableConcept `json:"type,omitempty"`
	Who       Reference        `json:"who"`
	AltID     string           `json:"altId,omitempty"`
	Requestor bool             `json:"requestor"`
	Network   *Network         `json:"network,omitempty"`
}

// Network is where an agent's request came from.
type Network struct {
	Address string `json:"address"`
	Type    string `json:"type"` // "2": an IP address
}

// Source is the AuditEvent.source: this server.
type Source struct {
	Observer Reference `json:"observer"`
	Type     []Coding  `json:"type"`
}

// Entity is an AuditEvent.entity: the authorization concerned, with the
// event's detail.
type Entity struct {
	What   Reference      `json:"what"`
	Type   *Coding        `json:"type,omitempty"`
	Detail []EntityDetail `json:"detail,omitempty"`
}

// EntityDetail is a named value about an entity.
type EntityDetail struct {
	Type        string `json:"type"`
	ValueString string `json:"valueString"`
}

// kind is how one event type is said in FHIR.
type kind struct {
	typ    Coding
	action string // C, R, U, D or E
	detail string // the name of Detail as an entity detail, or "" for none
}

var (
	userAuthentication = Coding{System: dicom, Code: "110114", Display: "User Authentication"}
	securityAlert      = Coding{System: dicom, Code: "110113", Display: "Security Alert"}
	userAttributes     = Coding{System: dicom, Code: "110137", Display: "User Security Attributes Changed"}
	applicationChanged = Coding{System: dicom, Code: "110100", Display: "Application Activity"}
)

var kinds = map[string]kind{
	SignInSucceeded:      {userAuthentication, "E", "form"},
	SignInFailed:         {userAuthentication, "E", "form"},
	SignInLimited:        {userAuthentication, "E", "form"},
	AuthorizationGranted: {userAttributes, "C", "scope"},
	TokenRefreshed:       {userAttributes, "E", ""},
	AuthorizationEnded:   {userAttributes, "D", "reason"},
	ClientAuthFailed:     {userAuthentication, "E", "reason"},
	ClientRegistered:     {applicationChanged, "C", "how"},
	ClientChanged:        {applicationChanged, "U", "change"},
	KeysRotated:          {applicationChanged, "E", "kid"},
	ConsentTampered:      {securityAlert, "E", "field"},
}

// Resource returns e as a FHIR AuditEvent. base is the server's public
// base URL: it names the observer and is the system of the user, client
// and authorization identifiers (base+"/users", "/clients",
// "/authorizations").
func Resource(e store.AuditEvent, base string) AuditEvent {
	base = strings.TrimSuffix(base, "/")
	k, ok := kinds[e.Type]
	if !ok {
		k = kind{typ: securityAlert, action: "E", detail: "detail"}
	}
	recorded := e.At.UTC().Format(time.RFC3339Nano)
	ae := AuditEvent{
		ResourceType: "AuditEvent",
		ID:           strconv.FormatInt(e.ID, 10),
		Meta:         &Meta{LastUpdated: recorded},
		Type:         k.typ,
		Subtype:      []Coding{{System: EventTypeSystem, Code: e.Type}},
		Action:       k.action,
		Recorded:     recorded,
		Outcome:      OutcomeOf(e.Type, e.Detail),
		Source: Source{
			Observer: Reference{Display: "smartlaunch at " + base},
			Type:     []Coding{{System: sourceType, Code: "4", Display: "Application Server"}},
		},
	}
	if ae.Outcome != Success {
		ae.OutcomeDesc = e.Type + ": " + e.Detail
	}
	var network *Network
	if e.Address != "" {
		network = &Network{Address: e.Address, Type: "2"}
	}
	// The requester is the person when there is one, else the app.
	if e.UserID != "" {
		ae.Agent = append(ae.Agent, Agent{
			Type:  &CodeableConcept{Coding: []Coding{{System: roleType, Code: "humanuser", Display: "human user"}}},
			Who:   Reference{Identifier: &Identifier{System: base + "/users", Value: e.UserID}},
			AltID: e.UserID, Requestor: true, Network: network,
		})
		network = nil
	}
	if e.ClientID != "" {
		ae.Agent = append(ae.Agent, Agent{
			Type:      &CodeableConcept{Coding: []Coding{{System: roleType, Code: "dataprocessor", Display: "data processor"}}},
			Who:       Reference{Identifier: &Identifier{System: base + "/clients", Value: e.ClientID}},
			Requestor: e.UserID == "", Network: network,
		})
		network = nil
	}
	if len(ae.Agent) == 0 {
		// An operator's command, or an attempt naming no known account.
		ae.Agent = append(ae.Agent, Agent{Who: Reference{Display: "unidentified"}, Requestor: true, Network: network})
	}
	if e.AuthorizationID != "" || (k.detail != "" && e.Detail != "") {
		ent := Entity{What: Reference{Display: e.Type}}
		if e.AuthorizationID != "" {
			ent.What = Reference{Identifier: &Identifier{System: base + "/authorizations", Value: e.AuthorizationID}}
			ent.Type = &Coding{System: entityType, Code: "2", Display: "System Object"}
		}
		if k.detail != "" && e.Detail != "" {
			detail, suppressed := SplitSuppressed(e.Detail)
			ent.Detail = []EntityDetail{{Type: k.detail, ValueString: detail}}
			if suppressed > 0 {
				ent.Detail = append(ent.Detail, EntityDetail{Type: "suppressed", ValueString: strconv.Itoa(suppressed)})
			}
		}
		ae.Entity = []Entity{ent}
	}
	return ae
}
