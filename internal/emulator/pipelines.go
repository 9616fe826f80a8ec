package emulator

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/pipelines"
)

// maxLatestUpdates is how many updates a pipeline's latest_updates lists.
const maxLatestUpdates = 5

// pipeline is a Lakeflow Declarative Pipeline (DLT) with its spec and its
// updates, oldest first.
type pipeline struct {
	id         string
	spec       pipelines.PipelineSpec
	parameters map[string]string
	runAs      *pipelines.RunAs
	creator    string
	modified   time.Time
	updates    []*pipelineUpdate
}

// pipelineUpdate is one update of a pipeline. Its state is never stored:
// it is computed from the creation time, the durations, the outcome and the
// cancel time, like a job run's.
type pipelineUpdate struct {
	info       pipelines.UpdateInfo
	created    time.Time
	setup      time.Duration
	run        time.Duration
	outcome    Outcome
	flows      []string
	canceledAt time.Time
}

// updateEvent is one entry of an update's event log.
type updateEvent struct {
	at      time.Time
	typ     string
	level   pipelines.EventLevel
	flow    string
	message string
	failed  bool
}

// The phases an update goes through before it runs its flows, as fractions
// of the setup time: QUEUED, then INITIALIZING, then SETTING_UP_TABLES.
func (u *pipelineUpdate) phaseStarts() (initializing, settingUp, running time.Time) {
	return u.created.Add(u.setup / 4), u.created.Add(u.setup / 2), u.created.Add(u.setup)
}

// end is when the update ends on its own; zero when it never does (HANG
// outcomes and continuous pipelines).
func (u *pipelineUpdate) end() time.Time {
	_, _, running := u.phaseStarts()
	if u.info.ValidateOnly {
		return running
	}
	if u.outcome == OutcomeHang {
		return time.Time{}
	}
	return running.Add(u.run)
}

func (u *pipelineUpdate) canceled(now time.Time) bool {
	return !u.canceledAt.IsZero() && !u.canceledAt.After(now)
}

// state computes the update's state at now.
func (u *pipelineUpdate) state(now time.Time) pipelines.UpdateInfoState {
	end := u.end()
	if !end.IsZero() && !now.Before(end) && (u.canceledAt.IsZero() || !u.canceledAt.Before(end)) {
		if u.outcome == OutcomeFailed && !u.info.ValidateOnly {
			return pipelines.UpdateInfoStateFailed
		}
		return pipelines.UpdateInfoStateCompleted
	}
	if u.canceled(now) {
		return pipelines.UpdateInfoStateCanceled
	}
	initializing, settingUp, running := u.phaseStarts()
	switch {
	case now.Before(initializing):
		return pipelines.UpdateInfoStateQueued
	case now.Before(settingUp):
		return pipelines.UpdateInfoStateInitializing
	case now.Before(running):
		return pipelines.UpdateInfoStateSettingUpTables
	default:
		return pipelines.UpdateInfoStateRunning
	}
}

func updateDone(st pipelines.UpdateInfoState) bool {
	return st == pipelines.UpdateInfoStateCompleted || st == pipelines.UpdateInfoStateFailed || st == pipelines.UpdateInfoStateCanceled
}

func (u *pipelineUpdate) view(now time.Time) pipelines.UpdateInfo {
	out := u.info
	out.State = u.state(now)
	return out
}

// events returns the update's events up to now, oldest first.
func (u *pipelineUpdate) events(now time.Time) []updateEvent {
	id := u.info.UpdateId
	evs := []updateEvent{{at: u.created, typ: "create_update", level: pipelines.EventLevelInfo,
		message: fmt.Sprintf("Update %s started by %s.", shortID(id), u.info.Cause)}}
	progress := func(at time.Time, st pipelines.UpdateInfoState) {
		ev := updateEvent{at: at, typ: "update_progress", level: pipelines.EventLevelInfo, message: fmt.Sprintf("Update %s is %s.", shortID(id), st)}
		if st == pipelines.UpdateInfoStateFailed {
			ev.level, ev.failed = pipelines.EventLevelError, true
		}
		evs = append(evs, ev)
	}
	flow := func(at time.Time, name, status string, failed bool) {
		ev := updateEvent{at: at, typ: "flow_progress", level: pipelines.EventLevelInfo, flow: name, message: fmt.Sprintf("Flow '%s' is %s.", name, status)}
		if failed {
			ev.level, ev.failed = pipelines.EventLevelError, true
			ev.message = fmt.Sprintf("Flow '%s' has FAILED: the configured outcome is FAILED.", name)
		}
		evs = append(evs, ev)
	}
	initializing, settingUp, running := u.phaseStarts()
	progress(u.created, pipelines.UpdateInfoStateQueued)
	progress(initializing, pipelines.UpdateInfoStateInitializing)
	progress(settingUp, pipelines.UpdateInfoStateSettingUpTables)
	if !u.info.ValidateOnly {
		for _, f := range u.flows {
			flow(settingUp, f, "QUEUED", false)
		}
		progress(running, pipelines.UpdateInfoStateRunning)
		for _, f := range u.flows {
			flow(running, f, "RUNNING", false)
		}
	}
	end := u.end()
	switch {
	case !end.IsZero() && (u.canceledAt.IsZero() || !u.canceledAt.Before(end)):
		final := u.state(end)
		if !u.info.ValidateOnly {
			for i, f := range u.flows {
				switch {
				case final != pipelines.UpdateInfoStateFailed:
					flow(end, f, "COMPLETED", false)
				case i == 0:
					flow(end, f, "", true)
				default:
					flow(end, f, "SKIPPED", false)
				}
			}
		}
		progress(end, final)
	case !u.canceledAt.IsZero():
		if !u.canceledAt.Before(running) {
			for _, f := range u.flows {
				flow(u.canceledAt, f, "STOPPED", false)
			}
		}
		progress(u.canceledAt, pipelines.UpdateInfoStateCanceled)
	}
	return slices.DeleteFunc(evs, func(e updateEvent) bool { return e.at.After(now) })
}

func shortID(id string) string {
	if len(id) > 6 {
		return id[:6]
	}
	return id
}

// flowsOf derives the flows an update runs: one per notebook or file
// library, named after the file without its extension.
func flowsOf(spec pipelines.PipelineSpec) []string {
	var out []string
	for _, l := range spec.Libraries {
		p := ""
		switch {
		case l.Notebook != nil:
			p = l.Notebook.Path
		case l.File != nil:
			p = l.File.Path
		default:
			continue
		}
		base := path.Base(p)
		out = append(out, strings.TrimSuffix(base, path.Ext(base)))
	}
	return out
}

func errPipelineMissing(id string) error {
	return errDoesNotExist("The specified pipeline %s was not found.", id)
}

func (ws *workspace) pipeline(id string) (*pipeline, error) {
	p, ok := ws.pipelines[id]
	if !ok {
		return nil, errPipelineMissing(id)
	}
	return p, nil
}

// active returns the update still in progress, or nil.
func (p *pipeline) active(now time.Time) *pipelineUpdate {
	for _, u := range p.updates {
		if !updateDone(u.state(now)) {
			return u
		}
	}
	return nil
}

func (p *pipeline) latest(now time.Time) []pipelines.UpdateStateInfo {
	var out []pipelines.UpdateStateInfo
	for i := len(p.updates) - 1; i >= 0 && len(out) < maxLatestUpdates; i-- {
		u := p.updates[i]
		out = append(out, pipelines.UpdateStateInfo{UpdateId: u.info.UpdateId, State: pipelines.UpdateStateInfoState(u.state(now)),
			CreationTime: u.created.UTC().Format(time.RFC3339Nano)})
	}
	return out
}

func (p *pipeline) state(now time.Time) (pipelines.PipelineState, pipelines.GetPipelineResponseHealth) {
	health := pipelines.GetPipelineResponseHealthHealthy
	for i := len(p.updates) - 1; i >= 0; i-- {
		if st := p.updates[i].state(now); updateDone(st) {
			if st == pipelines.UpdateInfoStateFailed {
				health = pipelines.GetPipelineResponseHealthUnhealthy
			}
			break
		}
	}
	if p.active(now) != nil {
		return pipelines.PipelineStateRunning, health
	}
	return pipelines.PipelineStateIdle, health
}

func (p *pipeline) view(now time.Time) pipelines.GetPipelineResponse {
	spec := p.spec
	state, health := p.state(now)
	out := pipelines.GetPipelineResponse{
		PipelineId: p.id, Name: spec.Name, Spec: &spec, State: state, Health: health,
		CreatorUserName: p.creator, RunAsUserName: p.creator, LastModified: millis(p.modified),
		LatestUpdates: p.latest(now), Parameters: p.parameters, RunAs: p.runAs,
	}
	if p.runAs != nil {
		out.RunAsUserName = p.runAs.UserName + p.runAs.ServicePrincipalName
	}
	if u := p.active(now); u != nil {
		out.Cause = string(u.info.Cause)
	}
	return out
}

// unqualified is what Databricks requires of target and schema: one name,
// without the catalog.
var unqualified = regexp.MustCompile(`^[^./\s]*$`)

// pipelineSpec validates the spec of a create or edit and checks the name
// is not used by another pipeline unless duplicates are allowed.
func (ws *workspace) pipelineSpec(body any, self string, allowDuplicates bool) (pipelines.PipelineSpec, error) {
	var spec pipelines.PipelineSpec
	if err := convert(body, &spec); err != nil {
		return spec, err
	}
	for field, v := range map[string]string{"target": spec.Target, "schema": spec.Schema} {
		if !unqualified.MatchString(v) {
			return spec, errInvalidParameter("pipeline %s %q is not a valid name. Valid names must not contain spaces, periods or forward slashes; give the catalog in the catalog field.", field, v)
		}
	}
	if spec.Target != "" && spec.Schema != "" {
		return spec, errInvalidParameter("only one of target and schema can be set")
	}
	if !allowDuplicates && spec.Name != "" {
		for _, id := range slices.Sorted(maps.Keys(ws.pipelines)) {
			if id != self && ws.pipelines[id].spec.Name == spec.Name {
				return spec, errConflict("Pipeline name '%s' is already used by another pipeline %s.", spec.Name, id)
			}
		}
	}
	return spec, nil
}

func withSpecDefaults(spec *pipelines.PipelineSpec, id string) {
	spec.Id = id
	// Without a catalog a pipeline publishes to the Hive metastore, which
	// needs a storage location; Databricks assigns one.
	if spec.Storage == "" && spec.Catalog == "" {
		spec.Storage = "dbfs:/pipelines/" + id
	}
}

func handlePipelineCreate(s *Server, c *call) (any, error) {
	var req pipelines.CreatePipeline
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	spec, err := c.ws.pipelineSpec(req, "", req.AllowDuplicateNames)
	if err != nil {
		return nil, err
	}
	id := uuidOf(c.ws.newID())
	withSpecDefaults(&spec, id)
	if req.DryRun {
		return pipelines.CreatePipelineResponse{EffectiveSettings: &spec}, nil
	}
	c.ws.pipelines[id] = &pipeline{id: id, spec: spec, parameters: req.Parameters, runAs: req.RunAs, creator: c.who.userName, modified: c.now}
	a, err := newACL(permissionTypes["pipelines"], id, []iam.AccessControlRequest{c.ws.owner()})
	if err != nil {
		return nil, err
	}
	c.ws.acls[aclKey("pipelines", id)] = a
	return pipelines.CreatePipelineResponse{PipelineId: id, EffectiveSettings: &spec}, nil
}

func handlePipelineGet(s *Server, c *call) (any, error) {
	p, err := c.ws.pipeline(c.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return p.view(c.now), nil
}

func handlePipelineEdit(s *Server, c *call) (any, error) {
	var req pipelines.EditPipeline
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	p, err := c.ws.pipeline(c.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if req.ExpectedLastModified != 0 && req.ExpectedLastModified != millis(p.modified) {
		return nil, errConflict("pipeline %s was modified at %d, not at the expected %d", p.id, millis(p.modified), req.ExpectedLastModified)
	}
	// Keeping its name never conflicts, even with duplicates made earlier.
	spec, err := c.ws.pipelineSpec(req, p.id, req.AllowDuplicateNames || req.Name == p.spec.Name)
	if err != nil {
		return nil, err
	}
	withSpecDefaults(&spec, p.id)
	// Edit replaces the whole spec: fields left out are removed.
	p.spec, p.parameters, p.modified = spec, req.Parameters, c.now
	if req.RunAs != nil {
		p.runAs = req.RunAs
	}
	return nil, nil
}

func handlePipelineDelete(s *Server, c *call) (any, error) {
	p, err := c.ws.pipeline(c.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	delete(c.ws.pipelines, p.id)
	delete(c.ws.acls, aclKey("pipelines", p.id))
	return nil, nil
}

// pipelineFilter matches the filters of pipelines list the emulator
// understands: name = '...' and name LIKE '...' (with % wildcards).
var pipelineFilter = regexp.MustCompile(`(?i)^\s*name\s+(=|like)\s+'([^']*)'\s*$`)

func handlePipelineList(s *Server, c *call) (any, error) {
	match := func(string) bool { return true }
	if f := c.query("filter"); f != "" {
		m := pipelineFilter.FindStringSubmatch(f)
		if m == nil {
			return nil, errInvalidParameter("the workspace emulator only filters pipelines by \"name = '...'\" or \"name LIKE '...'\", got %q", f)
		}
		if strings.EqualFold(m[1], "like") {
			parts := strings.Split(m[2], "%")
			for i := range parts {
				parts[i] = regexp.QuoteMeta(parts[i])
			}
			re := regexp.MustCompile("(?i)^" + strings.Join(parts, ".*") + "$")
			match = re.MatchString
		} else {
			match = func(n string) bool { return n == m[2] }
		}
	}
	resp := pipelines.ListPipelinesResponse{}
	for _, id := range slices.Sorted(maps.Keys(c.ws.pipelines)) {
		p := c.ws.pipelines[id]
		if !match(p.spec.Name) {
			continue
		}
		v := p.view(c.now)
		resp.Statuses = append(resp.Statuses, pipelines.PipelineStateInfo{
			PipelineId: p.id, Name: v.Name, State: v.State, Health: pipelines.PipelineStateInfoHealth(v.Health),
			CreatorUserName: v.CreatorUserName, RunAsUserName: v.RunAsUserName, LatestUpdates: v.LatestUpdates,
		})
	}
	return resp, nil
}

func handlePipelineStartUpdate(s *Server, c *call) (any, error) {
	var req pipelines.StartUpdate
	if len(strings.TrimSpace(string(c.body))) > 0 {
		if err := c.decode(&req); err != nil {
			return nil, err
		}
	}
	p, err := c.ws.pipeline(c.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if u := p.active(c.now); u != nil {
		return nil, errConflict("An active update %s already exists for pipeline %s.", u.info.UpdateId, p.id)
	}
	if req.FullRefresh && len(req.RefreshSelection)+len(req.FullRefreshSelection) > 0 {
		return nil, errInvalidParameter("full_refresh cannot be combined with refresh_selection or full_refresh_selection")
	}
	cause := pipelines.UpdateInfoCause(req.Cause)
	if cause == "" {
		cause = pipelines.UpdateInfoCauseApiCall
	}
	spec := p.spec
	flows := flowsOf(spec)
	if sel := slices.Concat(req.RefreshSelection, req.FullRefreshSelection); len(sel) > 0 {
		flows = sel
	}
	mode := pipelines.UpdateModeDefault
	outcome := OutcomeSuccess
	if o, ok := s.cfg.Outcomes[spec.Name]; ok {
		outcome = o
	}
	if spec.Continuous {
		mode, outcome = pipelines.UpdateModeContinuous, OutcomeHang
	}
	d := s.taskDurationLocked()
	u := &pipelineUpdate{
		info: pipelines.UpdateInfo{
			UpdateId: uuidOf(c.ws.newID()), PipelineId: p.id, Cause: cause, Config: &spec, CreationTime: millis(c.now),
			FullRefresh: req.FullRefresh, RefreshSelection: req.RefreshSelection, FullRefreshSelection: req.FullRefreshSelection,
			ValidateOnly: req.ValidateOnly, Parameters: req.Parameters, Mode: mode,
		},
		created: c.now, setup: d, run: d, outcome: outcome, flows: flows,
	}
	p.updates = append(p.updates, u)
	return pipelines.StartUpdateResponse{UpdateId: u.info.UpdateId}, nil
}

func (p *pipeline) update(id string) (*pipelineUpdate, error) {
	for _, u := range p.updates {
		if u.info.UpdateId == id {
			return u, nil
		}
	}
	return nil, errDoesNotExist("The specified update %s was not found.", id)
}

func handlePipelineGetUpdate(s *Server, c *call) (any, error) {
	p, err := c.ws.pipeline(c.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	u, err := p.update(c.r.PathValue("update"))
	if err != nil {
		return nil, err
	}
	v := u.view(c.now)
	return pipelines.GetUpdateResponse{Update: &v}, nil
}

func handlePipelineListUpdates(s *Server, c *call) (any, error) {
	p, err := c.ws.pipeline(c.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	resp := pipelines.ListUpdatesResponse{}
	for i := len(p.updates) - 1; i >= 0; i-- {
		resp.Updates = append(resp.Updates, p.updates[i].view(c.now))
	}
	return resp, nil
}

func handlePipelineStop(s *Server, c *call) (any, error) {
	p, err := c.ws.pipeline(c.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	// Stopping cancels the active update; an idle pipeline stays idle.
	if u := p.active(c.now); u != nil {
		u.canceledAt = c.now
	}
	return nil, nil
}

// eventFilter is one clause of the events filters the emulator understands;
// clauses are joined by AND.
var (
	eventFilter = regexp.MustCompile(`(?i)^\s*(level|update_id|event_type)\s*=\s*'([^']*)'\s*$`)
	andClauses  = regexp.MustCompile(`(?i)\s+and\s+`)
)

func handlePipelineEvents(s *Server, c *call) (any, error) {
	p, err := c.ws.pipeline(c.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	want := map[string]string{}
	if f := c.query("filter"); f != "" {
		for _, clause := range andClauses.Split(f, -1) {
			m := eventFilter.FindStringSubmatch(clause)
			if m == nil {
				return nil, errInvalidParameter("the workspace emulator only filters events by level, update_id and event_type ('=' joined by AND), got %q", f)
			}
			want[strings.ToLower(m[1])] = m[2]
		}
	}
	type stamped struct {
		ev  updateEvent
		upd string
	}
	var all []stamped
	for _, u := range p.updates {
		for _, ev := range u.events(c.now) {
			all = append(all, stamped{ev, u.info.UpdateId})
		}
	}
	slices.SortStableFunc(all, func(a, b stamped) int { return a.ev.at.Compare(b.ev.at) })
	resp := pipelines.ListPipelineEventsResponse{}
	for i, st := range all {
		ev := pipelines.PipelineEvent{
			Id: fmt.Sprintf("%s-%04d", st.upd, i), EventType: st.ev.typ, Level: st.ev.level, Message: st.ev.message,
			MaturityLevel: pipelines.MaturityLevelStable, Timestamp: st.ev.at.UTC().Format("2006-01-02T15:04:05.000Z"),
			Origin:   &pipelines.Origin{PipelineId: p.id, PipelineName: p.spec.Name, UpdateId: st.upd, FlowName: st.ev.flow, DatasetName: st.ev.flow},
			Sequence: &pipelines.Sequencing{ControlPlaneSeqNo: int64(i + 1)},
		}
		if st.ev.failed {
			ev.Error = &pipelines.ErrorDetail{Fatal: true, Exceptions: []pipelines.SerializedException{{ClassName: "EmulatedFailure", Message: "the configured outcome is FAILED"}}}
		}
		if (want["level"] != "" && !strings.EqualFold(want["level"], string(ev.Level))) ||
			(want["update_id"] != "" && want["update_id"] != st.upd) ||
			(want["event_type"] != "" && want["event_type"] != ev.EventType) {
			continue
		}
		resp.Events = append(resp.Events, ev)
	}
	// Newest first unless asked otherwise, as Databricks orders them.
	if !slices.ContainsFunc(c.r.URL.Query()["order_by"], func(o string) bool { return strings.Contains(strings.ToLower(o), "asc") }) {
		slices.Reverse(resp.Events)
	}
	return resp, nil
}
