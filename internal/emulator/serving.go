package emulator

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/serving"
)

// endpoint is a serving endpoint. A config update is pending until
// pendingUntil; it is applied lazily when the endpoint is next read.
type endpoint struct {
	detail       serving.ServingEndpointDetailed
	pending      *serving.EndpointPendingConfig
	pendingUntil time.Time
}

var endpointName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)

// settle applies a finished config update.
func (e *endpoint) settle(now time.Time) {
	if e.pending == nil || now.Before(e.pendingUntil) {
		return
	}
	cfg := &serving.EndpointCoreConfigOutput{
		ConfigVersion:  int64(e.pending.ConfigVersion),
		ServedEntities: e.pending.ServedEntities,
		ServedModels:   e.pending.ServedModels,
		TrafficConfig:  e.pending.TrafficConfig,
	}
	for i := range cfg.ServedEntities {
		cfg.ServedEntities[i].State = &serving.ServedModelState{Deployment: serving.ServedModelStateDeploymentDeploymentReady, DeploymentStateMessage: ""}
	}
	for i := range cfg.ServedModels {
		cfg.ServedModels[i].State = &serving.ServedModelState{Deployment: serving.ServedModelStateDeploymentDeploymentReady, DeploymentStateMessage: ""}
	}
	e.detail.Config = cfg
	e.detail.State = &serving.EndpointState{Ready: serving.EndpointStateReadyReady, ConfigUpdate: serving.EndpointStateConfigUpdateNotUpdating}
	e.detail.LastUpdatedTimestamp = millis(e.pendingUntil)
	e.pending = nil
	e.detail.PendingConfig = nil
}

func (e *endpoint) view(now time.Time) serving.ServingEndpointDetailed {
	e.settle(now)
	d := e.detail
	d.PendingConfig = e.pending
	return d
}

// pendingConfig turns a config input into the pending config Databricks
// reports while it deploys it, naming served entities and routing all
// traffic to a single one when no traffic config was given.
func pendingConfig(in serving.EndpointCoreConfigInput, version int, creator string, now time.Time) (*serving.EndpointPendingConfig, error) {
	if len(in.ServedEntities) == 0 && len(in.ServedModels) == 0 {
		return nil, errInvalidParameter("config must have at least one served entity")
	}
	var out serving.EndpointPendingConfig
	if err := convert(in, &out); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for i := range out.ServedEntities {
		se := &out.ServedEntities[i]
		if se.Name == "" {
			se.Name = strings.NewReplacer(".", "-", "/", "-").Replace(se.EntityName)
			if se.EntityVersion != "" {
				se.Name += "-" + se.EntityVersion
			}
		}
		if names[se.Name] {
			return nil, errInvalidParameter("served entity name %q is used more than once", se.Name)
		}
		names[se.Name] = true
		se.Creator, se.CreationTimestamp = creator, millis(now)
		se.State = &serving.ServedModelState{Deployment: serving.ServedModelStateDeploymentDeploymentCreating, DeploymentStateMessage: "creating"}
	}
	for i := range out.ServedModels {
		sm := &out.ServedModels[i]
		if sm.Name == "" {
			sm.Name = strings.NewReplacer(".", "-", "/", "-").Replace(sm.ModelName) + "-" + sm.ModelVersion
		}
		names[sm.Name] = true
		sm.Creator, sm.CreationTimestamp = creator, millis(now)
		sm.State = &serving.ServedModelState{Deployment: serving.ServedModelStateDeploymentDeploymentCreating, DeploymentStateMessage: "creating"}
	}
	if out.TrafficConfig == nil && len(names) == 1 {
		for name := range names {
			out.TrafficConfig = &serving.TrafficConfig{Routes: []serving.Route{{ServedModelName: name, ServedEntityName: name, TrafficPercentage: 100}}}
		}
	}
	if out.TrafficConfig != nil {
		total := 0
		for _, r := range out.TrafficConfig.Routes {
			name := r.ServedEntityName
			if name == "" {
				name = r.ServedModelName
			}
			if !names[name] {
				return nil, errInvalidParameter("traffic route names %q, which is not a served entity of this config", name)
			}
			total += r.TrafficPercentage
		}
		if total != 100 {
			return nil, errInvalidParameter("traffic percentages add up to %d, they must add up to 100", total)
		}
	}
	out.ConfigVersion = version
	out.StartTime = millis(now)
	return &out, nil
}

func (ws *workspace) endpoint(name string) (*endpoint, error) {
	e, ok := ws.endpoints[name]
	if !ok {
		return nil, errDoesNotExist("endpoint %q does not exist", name)
	}
	return e, nil
}

func handleEndpointCreate(s *Server, c *call) (any, error) {
	var req serving.CreateServingEndpoint
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if !endpointName.MatchString(req.Name) {
		return nil, errInvalidParameter("endpoint name %q is not valid: use up to 63 letters, digits, '-' and '_'", req.Name)
	}
	if _, ok := c.ws.endpoints[req.Name]; ok {
		return nil, errAlreadyExists("endpoint with name %q already exists", req.Name)
	}
	if req.Config == nil {
		return nil, errInvalidParameter("config is required to create endpoint %q", req.Name)
	}
	pending, err := pendingConfig(*req.Config, 1, c.who.userName, c.now)
	if err != nil {
		return nil, err
	}
	// An endpoint with inference tables makes its payload table,
	// <catalog>.<schema>.<table_name_prefix or endpoint name>_payload, in
	// a schema that must exist.
	if ac := req.Config.AutoCaptureConfig; ac != nil && ac.CatalogName != "" && ac.SchemaName != "" {
		schema := strings.ToLower(ac.CatalogName + "." + ac.SchemaName)
		if c.ws.uc.schemas[schema] == nil {
			return nil, errSchemaMissing(schema)
		}
		prefix := ac.TableNamePrefix
		if prefix == "" {
			prefix = req.Name
		}
		c.ws.makeTable([]string{strings.ToLower(ac.CatalogName), strings.ToLower(ac.SchemaName), strings.ToLower(prefix) + "_payload"}, payloadColumns, c.now)
	}
	id := fmt.Sprintf("%032x", c.ws.newID())
	e := &endpoint{
		detail: serving.ServingEndpointDetailed{
			Id: id, Name: req.Name, Creator: c.who.userName, Description: req.Description,
			CreationTimestamp: millis(c.now), LastUpdatedTimestamp: millis(c.now),
			AiGateway: req.AiGateway, BudgetPolicyId: req.BudgetPolicyId, EmailNotifications: req.EmailNotifications,
			RouteOptimized: req.RouteOptimized, Tags: req.Tags, TelemetryConfig: req.TelemetryConfig,
			PermissionLevel: serving.ServingEndpointDetailedPermissionLevelCanManage,
			EndpointUrl:     c.base + "/serving-endpoints/" + req.Name + "/invocations",
			State:           &serving.EndpointState{Ready: serving.EndpointStateReadyNotReady, ConfigUpdate: serving.EndpointStateConfigUpdateInProgress},
		},
		pending:      pending,
		pendingUntil: c.now.Add(s.taskDurationLocked()),
	}
	c.ws.endpoints[req.Name] = e
	owner := c.ws.owner()
	owner.PermissionLevel = iam.PermissionLevelCanManage
	a, err := newACL(permissionTypes["serving-endpoints"], id, []iam.AccessControlRequest{owner})
	if err != nil {
		return nil, err
	}
	c.ws.acls[aclKey("serving-endpoints", id)] = a
	return e.view(c.now), nil
}

func handleEndpointGet(s *Server, c *call) (any, error) {
	e, err := c.ws.endpoint(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	return e.view(c.now), nil
}

func handleEndpointList(s *Server, c *call) (any, error) {
	resp := serving.ListEndpointsResponse{}
	for _, name := range slices.Sorted(maps.Keys(c.ws.endpoints)) {
		var ep serving.ServingEndpoint
		if err := convert(c.ws.endpoints[name].view(c.now), &ep); err != nil {
			return nil, err
		}
		resp.Endpoints = append(resp.Endpoints, ep)
	}
	return resp, nil
}

func handleEndpointUpdateConfig(s *Server, c *call) (any, error) {
	var req serving.EndpointCoreConfigInput
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	e, err := c.ws.endpoint(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	e.settle(c.now)
	if e.pending != nil {
		return nil, errConflict("endpoint %q is being updated, wait for config version %d to finish before updating it again", e.detail.Name, e.pending.ConfigVersion)
	}
	version := 1
	if e.detail.Config != nil {
		version = int(e.detail.Config.ConfigVersion) + 1
	}
	pending, err := pendingConfig(req, version, c.who.userName, c.now)
	if err != nil {
		return nil, err
	}
	e.pending, e.pendingUntil = pending, c.now.Add(s.taskDurationLocked())
	ready := serving.EndpointStateReadyNotReady
	if e.detail.State != nil && e.detail.State.Ready == serving.EndpointStateReadyReady {
		ready = serving.EndpointStateReadyReady
	}
	e.detail.State = &serving.EndpointState{Ready: ready, ConfigUpdate: serving.EndpointStateConfigUpdateInProgress}
	e.detail.LastUpdatedTimestamp = millis(c.now)
	return e.view(c.now), nil
}

func handleEndpointDelete(s *Server, c *call) (any, error) {
	name := c.r.PathValue("name")
	e, err := c.ws.endpoint(name)
	if err != nil {
		return nil, err
	}
	delete(c.ws.endpoints, name)
	delete(c.ws.acls, aclKey("serving-endpoints", e.detail.Id))
	return nil, nil
}
