package emulator

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/jobs"
)

// Paging limits of jobs/list and jobs/runs/list.
const (
	defaultJobsLimit = 20
	maxJobsLimit     = 100
	defaultRunsLimit = 25
	maxRunsLimit     = 25
)

func errJobMissing(id int64) error {
	// The SDK maps this 400 message to ErrResourceDoesNotExist for jobs/get.
	return errInvalidParameter("Job %d does not exist.", id)
}

func (ws *workspace) job(id int64) (*job, error) {
	j, ok := ws.jobs[id]
	if !ok {
		return nil, errJobMissing(id)
	}
	return j, nil
}

// convert copies between SDK types that share JSON field names.
func convert(from, to any) error {
	data, err := json.Marshal(from)
	if err != nil {
		return fmt.Errorf("failed to encode %T: %w", from, err)
	}
	if err := json.Unmarshal(data, to); err != nil {
		return fmt.Errorf("failed to decode %T: %w", to, err)
	}
	return nil
}

// validateSettings applies the checks Databricks makes on create and reset:
// task keys are present and unique, dependencies name known tasks and do not
// form a cycle.
func validateSettings(settings jobs.JobSettings) error {
	keys := map[string]bool{}
	for i, t := range settings.Tasks {
		if t.TaskKey == "" {
			return errInvalidParameter("task at index %d has no task_key", i)
		}
		if keys[t.TaskKey] {
			return errInvalidParameter("task key %q is used by more than one task", t.TaskKey)
		}
		keys[t.TaskKey] = true
	}
	for _, t := range settings.Tasks {
		for _, d := range t.DependsOn {
			if !keys[d.TaskKey] {
				return errInvalidParameter("task %q depends on %q, which is not a task of this job", t.TaskKey, d.TaskKey)
			}
		}
	}
	if cycle := findCycle(settings.Tasks); cycle != nil {
		return errInvalidParameter("task %q is part of a dependency cycle: %s", cycle[0], strings.Join(cycle, " -> "))
	}
	return nil
}

// findCycle returns the task keys of one dependency cycle, first key
// repeated at the end, or nil.
func findCycle(tasks []jobs.Task) []string {
	deps := map[string][]string{}
	keys := make([]string, 0, len(tasks))
	for _, t := range tasks {
		keys = append(keys, t.TaskKey)
		for _, d := range t.DependsOn {
			deps[t.TaskKey] = append(deps[t.TaskKey], d.TaskKey)
		}
	}
	slices.Sort(keys)
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(k string) []string
	visit = func(k string) []string {
		state[k] = visiting
		stack = append(stack, k)
		for _, d := range deps[k] {
			switch state[d] {
			case visiting:
				i := slices.Index(stack, d)
				return append(slices.Clone(stack[i:]), d)
			case unvisited:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[k] = done
		return nil
	}
	for _, k := range keys {
		if state[k] == unvisited {
			if c := visit(k); c != nil {
				return c
			}
		}
	}
	return nil
}

func (ws *workspace) owner() iam.AccessControlRequest {
	if ws.who.sp {
		return iam.AccessControlRequest{ServicePrincipalName: ws.who.userName, PermissionLevel: iam.PermissionLevelIsOwner}
	}
	return iam.AccessControlRequest{UserName: ws.who.userName, PermissionLevel: iam.PermissionLevelIsOwner}
}

func handleJobCreate(s *Server, c *call) (any, error) {
	var req jobs.CreateJob
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	var settings jobs.JobSettings
	if err := convert(req, &settings); err != nil {
		return nil, err
	}
	if err := validateSettings(settings); err != nil {
		return nil, err
	}
	// The creator owns the job unless the request names another owner.
	var entries []iam.AccessControlRequest
	for _, e := range req.AccessControlList {
		var a iam.AccessControlRequest
		if err := convert(e, &a); err != nil {
			return nil, err
		}
		entries = append(entries, a)
	}
	if !slices.ContainsFunc(entries, func(a iam.AccessControlRequest) bool { return a.PermissionLevel == iam.PermissionLevelIsOwner }) {
		entries = append([]iam.AccessControlRequest{c.ws.owner()}, entries...)
	}
	id := c.ws.newID()
	a, err := newACL(permissionTypes["jobs"], strconv.FormatInt(id, 10), entries)
	if err != nil {
		return nil, err
	}
	c.ws.jobs[id] = &job{id: id, created: c.now, creator: c.who.userName, settings: settings}
	c.ws.acls[aclKey("jobs", strconv.FormatInt(id, 10))] = a
	return jobs.CreateResponse{JobId: id}, nil
}

func handleJobReset(s *Server, c *call) (any, error) {
	var req jobs.ResetJob
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	j, err := c.ws.job(req.JobId)
	if err != nil {
		return nil, err
	}
	if err := validateSettings(req.NewSettings); err != nil {
		return nil, err
	}
	j.settings = req.NewSettings
	return nil, nil
}

// keyedArrays are the settings arrays that jobs/update merges element by
// element, keyed by the named field, instead of replacing them whole.
var keyedArrays = map[string]string{
	"tasks":        "task_key",
	"job_clusters": "job_cluster_key",
	"environments": "environment_key",
	"parameters":   "name",
}

func handleJobUpdate(s *Server, c *call) (any, error) {
	var req jobs.UpdateJob
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	j, err := c.ws.job(req.JobId)
	if err != nil {
		return nil, err
	}
	var current, changes map[string]any
	if err := convert(j.settings, &current); err != nil {
		return nil, err
	}
	if req.NewSettings != nil {
		if err := convert(req.NewSettings, &changes); err != nil {
			return nil, err
		}
	}
	for field, value := range changes {
		key, keyed := keyedArrays[field]
		if !keyed {
			current[field] = value
			continue
		}
		current[field] = mergeKeyed(current[field], value, key)
	}
	for _, f := range req.FieldsToRemove {
		if err := removeField(current, f); err != nil {
			return nil, err
		}
	}
	var settings jobs.JobSettings
	if err := convert(current, &settings); err != nil {
		return nil, errInvalidParameter("invalid new_settings: %v", err)
	}
	if err := validateSettings(settings); err != nil {
		return nil, err
	}
	j.settings = settings
	return nil, nil
}

// mergeKeyed replaces the elements of old whose key matches one in updates
// and appends the rest.
func mergeKeyed(old, updates any, key string) []any {
	out, _ := old.([]any)
	out = slices.Clone(out)
	news, _ := updates.([]any)
	for _, n := range news {
		nk := keyOf(n, key)
		i := slices.IndexFunc(out, func(o any) bool { return keyOf(o, key) == nk })
		if i >= 0 {
			out[i] = n
		} else {
			out = append(out, n)
		}
	}
	return out
}

func keyOf(v any, key string) string {
	m, _ := v.(map[string]any)
	s, _ := m[key].(string)
	return s
}

// removeField removes a top-level field, or one keyed element written as
// "tasks/<task_key>".
func removeField(settings map[string]any, field string) error {
	name, elem, nested := strings.Cut(field, "/")
	if !nested {
		delete(settings, name)
		return nil
	}
	key, ok := keyedArrays[name]
	if !ok {
		return errInvalidParameter("cannot remove %q: %q is not a keyed array", field, name)
	}
	list, _ := settings[name].([]any)
	i := slices.IndexFunc(list, func(o any) bool { return keyOf(o, key) == elem })
	if i < 0 {
		return errInvalidParameter("cannot remove %q: no element with %s %q", field, key, elem)
	}
	settings[name] = slices.Delete(slices.Clone(list), i, i+1)
	return nil
}

func handleJobDelete(s *Server, c *call) (any, error) {
	var req jobs.DeleteJob
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if _, err := c.ws.job(req.JobId); err != nil {
		return nil, err
	}
	delete(c.ws.jobs, req.JobId)
	delete(c.ws.acls, aclKey("jobs", strconv.FormatInt(req.JobId, 10)))
	return nil, nil
}

func queryInt(c *call, name string) (int64, error) {
	v := c.query(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, errInvalidParameter("%s %q is not an integer", name, v)
	}
	return n, nil
}

func (j *job) view() jobs.Job {
	settings := j.settings
	return jobs.Job{
		JobId:           j.id,
		CreatedTime:     millis(j.created),
		CreatorUserName: j.creator,
		RunAsUserName:   j.creator,
		Settings:        &settings,
	}
}

func handleJobGet(s *Server, c *call) (any, error) {
	id, err := queryInt(c, "job_id")
	if err != nil {
		return nil, err
	}
	if id == 0 {
		return nil, errInvalidParameter("job_id is required")
	}
	j, err := c.ws.job(id)
	if err != nil {
		return nil, err
	}
	return j.view(), nil
}

// page reads limit, offset and page_token; a page token is the offset of
// the next page, as an opaque string.
func page(c *call, def, max int64) (offset, limit int64, err error) {
	if limit, err = queryInt(c, "limit"); err != nil {
		return 0, 0, err
	}
	if limit == 0 {
		limit = def
	}
	if limit < 0 || limit > max {
		return 0, 0, errInvalidParameter("limit %d is not within [1, %d]", limit, max)
	}
	if offset, err = queryInt(c, "offset"); err != nil {
		return 0, 0, err
	}
	if tok := c.query("page_token"); tok != "" {
		n, perr := strconv.ParseInt(strings.TrimPrefix(tok, "offset:"), 10, 64)
		if !strings.HasPrefix(tok, "offset:") || perr != nil || n < 0 {
			return 0, 0, errInvalidParameter("page_token %q is not valid", tok)
		}
		offset = n
	}
	if offset < 0 {
		return 0, 0, errInvalidParameter("offset %d must not be negative", offset)
	}
	return offset, limit, nil
}

func pageTokens(offset, limit, total int64) (next, prev string, more bool) {
	if offset+limit < total {
		next, more = "offset:"+strconv.FormatInt(offset+limit, 10), true
	}
	if offset > 0 {
		prev = "offset:" + strconv.FormatInt(max(0, offset-limit), 10)
	}
	return next, prev, more
}

func handleJobList(s *Server, c *call) (any, error) {
	offset, limit, err := page(c, defaultJobsLimit, maxJobsLimit)
	if err != nil {
		return nil, err
	}
	name := c.query("name")
	expand := c.query("expand_tasks") == "true"
	var matched []*job
	for _, id := range slices.Sorted(maps.Keys(c.ws.jobs)) {
		j := c.ws.jobs[id]
		if name == "" || strings.EqualFold(j.settings.Name, name) {
			matched = append(matched, j)
		}
	}
	resp := jobs.ListJobsResponse{}
	total := int64(len(matched))
	for i := offset; i < min(total, offset+limit); i++ {
		j := matched[i]
		settings := j.settings
		base := jobs.BaseJob{JobId: j.id, CreatedTime: millis(j.created), CreatorUserName: j.creator, Settings: &settings}
		if !expand {
			base.HasMore = len(settings.Tasks) > 0 || len(settings.JobClusters) > 0
			settings.Tasks, settings.JobClusters, settings.Parameters, settings.Environments = nil, nil, nil, nil
		}
		resp.Jobs = append(resp.Jobs, base)
	}
	resp.NextPageToken, resp.PrevPageToken, resp.HasMore = pageTokens(offset, limit, total)
	return resp, nil
}
