package emulator

import (
	"cmp"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/ml"
)

// kindExperiment is the workspace object type of an MLflow experiment; its
// object id is the experiment id.
const kindExperiment objectKind = "MLFLOW_EXPERIMENT"

// Lifecycle stages of an MLflow experiment.
const (
	stageActive  = "active"
	stageDeleted = "deleted"
)

// experiment is an MLflow experiment. Its name is a workspace path; while it
// is active, the workspace tree holds an object of kindExperiment there.
type experiment struct {
	info ml.Experiment
}

func (e *experiment) view() ml.Experiment {
	out := e.info
	out.Tags = slices.Clone(e.info.Tags)
	return out
}

func (e *experiment) setTag(key, value string) {
	for i := range e.info.Tags {
		if e.info.Tags[i].Key == key {
			e.info.Tags[i].Value = value
			return
		}
	}
	e.info.Tags = append(e.info.Tags, ml.ExperimentTag{Key: key, Value: value})
}

func errExperimentMissing(id string) error {
	return errDoesNotExist("Node ID %s does not exist.", id)
}

func (ws *workspace) experiment(id string) (*experiment, error) {
	e, ok := ws.experiments[id]
	if !ok {
		return nil, errExperimentMissing(id)
	}
	return e, nil
}

// activeExperiment resolves an experiment that can be changed: MLflow
// refuses to rename or tag a deleted one.
func (ws *workspace) activeExperiment(id string) (*experiment, error) {
	e, err := ws.experiment(id)
	if err != nil {
		return nil, err
	}
	if e.info.LifecycleStage != stageActive {
		return nil, errInvalidParameter("The experiment %s must be in the 'active' state. Current state is %s.", id, e.info.LifecycleStage)
	}
	return e, nil
}

// experimentByName finds an experiment, active or deleted, by its path.
func (ws *workspace) experimentByName(name string) *experiment {
	for _, e := range ws.experiments {
		if e.info.Name == name {
			return e
		}
	}
	return nil
}

// placeExperiment checks that an experiment can take the workspace path p:
// its folder exists and neither an object nor another experiment (even a
// deleted one, whose name stays reserved) holds it.
func (ws *workspace) placeExperiment(p string) error {
	if p == "/" {
		return errInvalidParameter("experiment name %q is not a valid workspace path", p)
	}
	parent, ok := ws.objects[path.Dir(p)]
	if !ok || parent.kind != kindDirectory {
		return errDoesNotExist("Parent directory %s does not exist.", path.Dir(p))
	}
	if ws.experimentByName(p) != nil {
		return errAlreadyExists("Experiment with name '%s' already exists.", p)
	}
	if _, ok := ws.objects[p]; ok {
		return errAlreadyExists("Node named '%s' already exists", p)
	}
	return nil
}

// experimentName validates an experiment name, a workspace path.
func experimentName(name string) (string, error) {
	if name == "" {
		return "", errInvalidParameter("experiment name is required")
	}
	// The Databricks CLI writes "//Workspace/..." on Windows.
	if strings.HasPrefix(name, "//") {
		name = name[1:]
	}
	return cleanPath(name)
}

func handleExperimentCreate(s *Server, c *call) (any, error) {
	var req ml.CreateExperiment
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	name, err := experimentName(req.Name)
	if err != nil {
		return nil, err
	}
	if err := c.ws.placeExperiment(name); err != nil {
		return nil, err
	}
	n := c.ws.newID()
	id := strconv.FormatInt(n, 10)
	location := req.ArtifactLocation
	if location == "" {
		location = "dbfs:/databricks/mlflow-tracking/" + id
	}
	e := &experiment{info: ml.Experiment{
		ExperimentId: id, Name: name, ArtifactLocation: location, LifecycleStage: stageActive,
		CreationTime: millis(c.now), LastUpdateTime: millis(c.now), TraceLocation: req.TraceLocation,
	}}
	for _, t := range req.Tags {
		e.setTag(t.Key, t.Value)
	}
	// Tags Databricks adds to every experiment.
	e.setTag("mlflow.ownerId", strconv.FormatInt(c.ws.userID, 10))
	e.setTag("mlflow.ownerEmail", c.who.userName)
	e.setTag("mlflow.experimentType", string(kindExperiment))
	e.setTag("mlflow.experiment.sourceName", name)
	c.ws.experiments[id] = e
	c.ws.objects[name] = &object{path: name, kind: kindExperiment, id: n, created: c.now, modified: c.now}
	owner := c.ws.owner()
	owner.PermissionLevel = iam.PermissionLevelCanManage
	a, err := newACL(permissionTypes["experiments"], id, []iam.AccessControlRequest{owner})
	if err != nil {
		return nil, err
	}
	c.ws.acls[aclKey("experiments", id)] = a
	return ml.CreateExperimentResponse{ExperimentId: id}, nil
}

func handleExperimentGet(s *Server, c *call) (any, error) {
	id := c.query("experiment_id")
	if id == "" {
		return nil, errInvalidParameter("experiment_id is required")
	}
	e, err := c.ws.experiment(id)
	if err != nil {
		return nil, err
	}
	v := e.view()
	return ml.GetExperimentResponse{Experiment: &v}, nil
}

func handleExperimentGetByName(s *Server, c *call) (any, error) {
	name, err := experimentName(c.query("experiment_name"))
	if err != nil {
		return nil, err
	}
	e := c.ws.experimentByName(name)
	if e == nil {
		return nil, errDoesNotExist("Could not find experiment with name %s", name)
	}
	v := e.view()
	return ml.GetExperimentByNameResponse{Experiment: &v}, nil
}

func handleExperimentUpdate(s *Server, c *call) (any, error) {
	var req ml.UpdateExperiment
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	e, err := c.ws.activeExperiment(req.ExperimentId)
	if err != nil {
		return nil, err
	}
	if req.NewName == "" {
		return nil, nil
	}
	name, err := experimentName(req.NewName)
	if err != nil {
		return nil, err
	}
	if name == e.info.Name {
		return nil, nil
	}
	if err := c.ws.placeExperiment(name); err != nil {
		return nil, err
	}
	o := c.ws.objects[e.info.Name]
	delete(c.ws.objects, e.info.Name)
	if o != nil {
		o.path, o.modified = name, c.now
		c.ws.objects[name] = o
	}
	e.info.Name, e.info.LastUpdateTime = name, millis(c.now)
	e.setTag("mlflow.experiment.sourceName", name)
	return nil, nil
}

// softDelete marks an experiment deleted and takes it out of the workspace
// tree; its name stays reserved until it is restored.
func (ws *workspace) softDelete(e *experiment, now int64) {
	e.info.LifecycleStage, e.info.LastUpdateTime = stageDeleted, now
	if o, ok := ws.objects[e.info.Name]; ok && o.kind == kindExperiment {
		delete(ws.objects, e.info.Name)
	}
}

func handleExperimentDelete(s *Server, c *call) (any, error) {
	var req ml.DeleteExperiment
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	e, err := c.ws.experiment(req.ExperimentId)
	if err != nil {
		return nil, err
	}
	c.ws.softDelete(e, millis(c.now))
	return nil, nil
}

func handleExperimentRestore(s *Server, c *call) (any, error) {
	var req ml.RestoreExperiment
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	e, err := c.ws.experiment(req.ExperimentId)
	if err != nil {
		return nil, err
	}
	if e.info.LifecycleStage == stageActive {
		return nil, nil
	}
	parent, ok := c.ws.objects[path.Dir(e.info.Name)]
	if !ok || parent.kind != kindDirectory {
		return nil, errDoesNotExist("Parent directory %s does not exist.", path.Dir(e.info.Name))
	}
	if _, ok := c.ws.objects[e.info.Name]; ok {
		return nil, errAlreadyExists("Node named '%s' already exists", e.info.Name)
	}
	n, _ := strconv.ParseInt(e.info.ExperimentId, 10, 64)
	c.ws.objects[e.info.Name] = &object{path: e.info.Name, kind: kindExperiment, id: n, created: c.now, modified: c.now}
	e.info.LifecycleStage, e.info.LastUpdateTime = stageActive, millis(c.now)
	return nil, nil
}

func handleExperimentSetTag(s *Server, c *call) (any, error) {
	var req ml.SetExperimentTag
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Key == "" {
		return nil, errInvalidParameter("key is required")
	}
	e, err := c.ws.activeExperiment(req.ExperimentId)
	if err != nil {
		return nil, err
	}
	e.setTag(req.Key, req.Value)
	return nil, nil
}

// experimentsIn lists experiments of a view type in id order.
func (ws *workspace) experimentsIn(view ml.ViewType) ([]ml.Experiment, error) {
	var out []ml.Experiment
	ids := slices.Sorted(maps.Keys(ws.experiments))
	slices.SortFunc(ids, func(a, b string) int {
		x, _ := strconv.ParseInt(a, 10, 64)
		y, _ := strconv.ParseInt(b, 10, 64)
		return cmp.Compare(x, y)
	})
	for _, id := range ids {
		e := ws.experiments[id]
		switch view {
		case "", ml.ViewTypeActiveOnly:
			if e.info.LifecycleStage != stageActive {
				continue
			}
		case ml.ViewTypeDeletedOnly:
			if e.info.LifecycleStage != stageDeleted {
				continue
			}
		case ml.ViewTypeAll:
		default:
			return nil, errInvalidParameter("view_type %q is not valid, valid are %q", view, []ml.ViewType{ml.ViewTypeActiveOnly, ml.ViewTypeAll, ml.ViewTypeDeletedOnly})
		}
		out = append(out, e.view())
	}
	return out, nil
}

func handleExperimentList(s *Server, c *call) (any, error) {
	list, err := c.ws.experimentsIn(ml.ViewType(c.query("view_type")))
	if err != nil {
		return nil, err
	}
	return ml.ListExperimentsResponse{Experiments: list}, nil
}

// nameFilter is the one search filter the emulator understands.
var nameFilter = regexp.MustCompile(`^\s*(?:attribute\.)?name\s*=\s*'([^']*)'\s*$`)

func handleExperimentSearch(s *Server, c *call) (any, error) {
	var req ml.SearchExperiments
	if len(strings.TrimSpace(string(c.body))) > 0 {
		if err := c.decode(&req); err != nil {
			return nil, err
		}
	}
	list, err := c.ws.experimentsIn(req.ViewType)
	if err != nil {
		return nil, err
	}
	if req.Filter != "" {
		m := nameFilter.FindStringSubmatch(req.Filter)
		if m == nil {
			return nil, errInvalidParameter("the workspace emulator only searches with the filter \"name = '<name>'\", got %q", req.Filter)
		}
		list = slices.DeleteFunc(list, func(e ml.Experiment) bool { return e.Name != m[1] })
	}
	return ml.SearchExperimentsResponse{Experiments: list}, nil
}
