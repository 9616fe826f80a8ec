package emulator

import (
	"time"

	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/databricks/databricks-sdk-go/service/sql"
)

// workspace is the state behind one bearer token (or one OAuth client id).
type workspace struct {
	who       principal
	userID    int64
	nextID    int64
	objects   map[string]*object
	jobs      map[int64]*job
	runs      map[int64]*run
	taskRuns  map[int64]taskRef
	idem      map[string]int64
	endpoints map[string]*endpoint
	acls      map[string]*acl
	uc        *unityCatalog
	// experiments are keyed by experiment id.
	experiments map[string]*experiment
	// registry holds the workspace model registry, keyed by model name.
	registry map[string]*registeredModel
	// monitors are keyed by the full name of their table.
	monitors map[string]*monitor
	// pipelines are keyed by pipeline id.
	pipelines map[string]*pipeline
	// clusters are keyed by cluster id.
	clusters map[string]*cluster
	// warehouses are the SQL warehouses, keyed by id.
	warehouses map[string]*warehouse
	// secretScopes are keyed by scope name.
	secretScopes map[string]*secretScope
	// dashboards are the Lakeview dashboards, keyed by id.
	dashboards map[string]*dashboard
	// apps are keyed by app name.
	apps map[string]*app
	// alerts are the SQL alerts (v2), keyed by id.
	alerts map[string]*sql.AlertV2
}

func newWorkspace(who principal, now time.Time) *workspace {
	ws := &workspace{
		who:       who,
		userID:    stableID(who.userName),
		nextID:    1000,
		objects:   map[string]*object{},
		jobs:      map[int64]*job{},
		runs:      map[int64]*run{},
		taskRuns:  map[int64]taskRef{},
		idem:      map[string]int64{},
		endpoints: map[string]*endpoint{},
		acls:      map[string]*acl{},

		experiments: map[string]*experiment{},
		registry:    map[string]*registeredModel{},
		monitors:    map[string]*monitor{},
		pipelines:   map[string]*pipeline{},
		clusters:    map[string]*cluster{},
		warehouses:  map[string]*warehouse{},

		secretScopes: map[string]*secretScope{},
		dashboards:   map[string]*dashboard{},
		apps:         map[string]*app{},
		alerts:       map[string]*sql.AlertV2{},
	}
	for _, dir := range []string{"/", "/Users", "/Shared", "/Users/" + who.userName} {
		ws.objects[dir] = &object{path: dir, kind: kindDirectory, id: ws.newID(), created: now, modified: now}
	}
	ws.uc = newUnityCatalog(ws)
	// A new workspace has the catalog main with its schema default.
	_ = ws.seed(Seed{Schemas: []string{"main.default"}}, now)
	return ws
}

// newID returns the next id of this workspace; ids are unique across object
// kinds, as job, run and workspace object ids are in Databricks.
func (ws *workspace) newID() int64 {
	ws.nextID++
	return ws.nextID
}

// taskRef locates a task run inside its job run.
type taskRef struct {
	runID int64
	index int
}

// job is a stored job with its settings.
type job struct {
	id       int64
	created  time.Time
	creator  string
	settings jobs.JobSettings
}
