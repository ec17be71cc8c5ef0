package server

import (
	"context"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// proxiedStore is the store with its FHIR resources read from the
// upstream FHIR server (proxy mode): everything else stays in the store.
type proxiedStore struct {
	store.Store
	res store.Resources
}

func (p proxiedStore) GetResource(ctx context.Context, typ, id string) (store.Resource, error) {
	return p.res.GetResource(ctx, typ, id)
}

func (p proxiedStore) SearchResources(ctx context.Context, q store.ResourceQuery) ([]store.Resource, int, error) {
	return p.res.SearchResources(ctx, q)
}

func (p proxiedStore) PutResources(ctx context.Context, rs []store.Resource) error {
	return p.res.PutResources(ctx, rs)
}

func (p proxiedStore) CountResources(ctx context.Context) (int, error) {
	return p.res.CountResources(ctx)
}

func (p proxiedStore) WriteResources(ctx context.Context, changes []store.Change) error {
	return p.res.WriteResources(ctx, changes)
}

func (p proxiedStore) ResourceHistory(ctx context.Context, q store.HistoryQuery) ([]store.Resource, error) {
	return p.res.ResourceHistory(ctx, q)
}
