package emulator

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"time"

	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/sql"
)

// warehouseSizes are the cluster sizes a SQL warehouse can have.
var warehouseSizes = []string{"2X-Small", "X-Small", "Small", "Medium", "Large", "X-Large", "2X-Large", "3X-Large", "4X-Large"}

// maxWarehouseClusters is the default limit of max_num_clusters.
const maxWarehouseClusters = 30

// warehouse is a SQL warehouse. Like a cluster's, its state moves from
// STARTING or STOPPING to the next one once the task duration has passed
// and is settled lazily when the warehouse is read.
type warehouse struct {
	info  sql.GetWarehouseResponse
	next  sql.State
	until time.Time
}

func (wh *warehouse) settle(now time.Time) {
	if wh.next == "" || now.Before(wh.until) {
		return
	}
	wh.info.State, wh.next = wh.next, ""
	wh.info.NumClusters, wh.info.Health = 0, nil
	if wh.info.State == sql.StateRunning {
		wh.info.NumClusters = max(wh.info.MinNumClusters, 1)
		wh.info.Health = &sql.EndpointHealth{Status: sql.StatusHealthy}
	}
}

func (wh *warehouse) transition(state, next sql.State, now time.Time, d time.Duration) {
	wh.info.State, wh.next, wh.until = state, next, now.Add(d)
	wh.info.Health = nil
}

func (wh *warehouse) view(now time.Time) sql.GetWarehouseResponse {
	wh.settle(now)
	return wh.info
}

func errWarehouseMissing(id string) error {
	return errDoesNotExist("SQL warehouse %s does not exist.", id)
}

func (ws *workspace) warehouse(id string, now time.Time) (*warehouse, error) {
	wh, ok := ws.warehouses[id]
	if !ok {
		return nil, errWarehouseMissing(id)
	}
	wh.settle(now)
	return wh, nil
}

// warehouseSettings checks a create or edit request and returns it with
// the defaults Databricks fills in.
func warehouseSettings(in sql.CreateWarehouseRequest) (sql.CreateWarehouseRequest, error) {
	switch {
	case in.Name == "":
		return in, errInvalidParameter("Missing required field: name")
	case in.ClusterSize == "":
		return in, errInvalidParameter("Missing required field: cluster_size")
	case !slices.Contains(warehouseSizes, in.ClusterSize):
		return in, errInvalidParameter("cluster_size %q is not valid, valid are %q", in.ClusterSize, warehouseSizes)
	case in.AutoStopMins < 0 || (!in.EnableServerlessCompute && in.AutoStopMins > 0 && in.AutoStopMins < 10):
		return in, errInvalidParameter("auto_stop_mins must be 0 (never) or at least 10, got %d", in.AutoStopMins)
	case in.EnableServerlessCompute && in.WarehouseType != sql.CreateWarehouseRequestWarehouseTypePro:
		return in, errInvalidParameter("serverless compute needs warehouse_type PRO")
	}
	if in.MinNumClusters == 0 {
		in.MinNumClusters = 1
	}
	if in.MaxNumClusters == 0 {
		in.MaxNumClusters = in.MinNumClusters
	}
	if in.MaxNumClusters < in.MinNumClusters || in.MaxNumClusters > maxWarehouseClusters {
		return in, errInvalidParameter("max_num_clusters must be between min_num_clusters (%d) and %d, got %d", in.MinNumClusters, maxWarehouseClusters, in.MaxNumClusters)
	}
	if in.AutoStopMins == 0 && !slices.Contains(in.ForceSendFields, "AutoStopMins") {
		in.AutoStopMins = 120
	}
	if in.SpotInstancePolicy == "" {
		in.SpotInstancePolicy = sql.SpotInstancePolicyCostOptimized
	}
	if in.WarehouseType == "" || in.WarehouseType == sql.CreateWarehouseRequestWarehouseTypeTypeUnspecified {
		in.WarehouseType = sql.CreateWarehouseRequestWarehouseTypeClassic
	}
	if in.Channel == nil {
		in.Channel = &sql.Channel{Name: sql.ChannelNameChannelNameCurrent}
	}
	return in, nil
}

// setSettings copies the settings into the warehouse, keeping its id,
// creator, state and connection details.
func (wh *warehouse) setSettings(in sql.CreateWarehouseRequest) error {
	keep := wh.info
	var info sql.GetWarehouseResponse
	if err := convert(in, &info); err != nil {
		return err
	}
	info.Id, info.CreatorName, info.State, info.Health, info.NumClusters = keep.Id, keep.CreatorName, keep.State, keep.Health, keep.NumClusters
	info.JdbcUrl, info.OdbcParams = keep.JdbcUrl, keep.OdbcParams
	wh.info = info
	return nil
}

func handleWarehouseCreate(s *Server, c *call) (any, error) {
	var req sql.CreateWarehouseRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	in, err := warehouseSettings(req)
	if err != nil {
		return nil, err
	}
	id := fmt.Sprintf("%016x", uint64(stableID(fmt.Sprint("warehouse", c.ws.newID()))))
	host := c.r.Host
	if u, err := url.Parse(c.base); err == nil {
		host = u.Hostname()
	}
	httpPath := "/sql/1.0/warehouses/" + id
	wh := &warehouse{info: sql.GetWarehouseResponse{
		Id: id, CreatorName: c.who.userName,
		JdbcUrl:    fmt.Sprintf("jdbc:spark://%s:443/default;transportMode=http;ssl=1;AuthMech=3;httpPath=%s;", host, httpPath),
		OdbcParams: &sql.OdbcParams{Hostname: host, Path: httpPath, Port: 443, Protocol: "https"},
	}}
	if err := wh.setSettings(in); err != nil {
		return nil, err
	}
	wh.transition(sql.StateStarting, sql.StateRunning, c.now, s.taskDurationLocked())
	c.ws.warehouses[id] = wh
	owner := c.ws.owner()
	a, err := newACL(permissionTypes["warehouses"], id, []iam.AccessControlRequest{owner})
	if err != nil {
		return nil, err
	}
	c.ws.acls[aclKey("warehouses", id)] = a
	return sql.CreateWarehouseResponse{Id: id}, nil
}

func handleWarehouseGet(s *Server, c *call) (any, error) {
	wh, err := c.ws.warehouse(c.r.PathValue("id"), c.now)
	if err != nil {
		return nil, err
	}
	return wh.view(c.now), nil
}

func handleWarehouseList(s *Server, c *call) (any, error) {
	resp := sql.ListWarehousesResponse{}
	for _, id := range slices.Sorted(maps.Keys(c.ws.warehouses)) {
		var e sql.EndpointInfo
		if err := convert(c.ws.warehouses[id].view(c.now), &e); err != nil {
			return nil, err
		}
		resp.Warehouses = append(resp.Warehouses, e)
	}
	return resp, nil
}

// handleWarehouseEdit replaces the warehouse's settings; a running one
// restarts with them (STARTING, then RUNNING), a stopped one stays stopped.
func handleWarehouseEdit(s *Server, c *call) (any, error) {
	var req sql.EditWarehouseRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	wh, err := c.ws.warehouse(c.r.PathValue("id"), c.now)
	if err != nil {
		return nil, err
	}
	var create sql.CreateWarehouseRequest
	if err := convert(req, &create); err != nil {
		return nil, err
	}
	in, err := warehouseSettings(create)
	if err != nil {
		return nil, err
	}
	if err := wh.setSettings(in); err != nil {
		return nil, err
	}
	if wh.info.State == sql.StateRunning || wh.info.State == sql.StateStarting {
		wh.transition(sql.StateStarting, sql.StateRunning, c.now, s.taskDurationLocked())
	}
	return nil, nil
}

func handleWarehouseStart(s *Server, c *call) (any, error) {
	wh, err := c.ws.warehouse(c.r.PathValue("id"), c.now)
	if err != nil {
		return nil, err
	}
	if st := wh.info.State; st != sql.StateRunning && st != sql.StateStarting {
		wh.transition(sql.StateStarting, sql.StateRunning, c.now, s.taskDurationLocked())
	}
	return nil, nil
}

func handleWarehouseStop(s *Server, c *call) (any, error) {
	wh, err := c.ws.warehouse(c.r.PathValue("id"), c.now)
	if err != nil {
		return nil, err
	}
	if st := wh.info.State; st != sql.StateStopped && st != sql.StateStopping {
		wh.transition(sql.StateStopping, sql.StateStopped, c.now, s.taskDurationLocked())
	}
	return nil, nil
}

func handleWarehouseDelete(s *Server, c *call) (any, error) {
	id := c.r.PathValue("id")
	if _, err := c.ws.warehouse(id, c.now); err != nil {
		return nil, err
	}
	delete(c.ws.warehouses, id)
	delete(c.ws.acls, aclKey("warehouses", id))
	return nil, nil
}

// Warehouses returns warehouse id → SQL warehouse as the get call reports
// it now.
func (s *Server) Warehouses(key string) map[string]sql.GetWarehouseResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]sql.GetWarehouseResponse{}
	if ws := s.peekWorkspace(key); ws != nil {
		now := s.clock()
		for id, wh := range ws.warehouses {
			out[id] = normalized(wh.view(now))
		}
	}
	return out
}
