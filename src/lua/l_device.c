/* l_device.c - device listing and selection: d3m.devices(), d3m.use_device(),
 * d3m.device(), d3m.finish(). */
#include <stdlib.h>
#include <time.h>

#include "lbind.h"

int d3m_open_device(lua_State *L);


static void push_info(lua_State *L, const d3m_device_info *info)
{
    lua_createtable(L, 0, 16);
    lua_pushinteger(L, info->platform_index);
    lua_setfield(L, -2, "platform_index");
    lua_pushinteger(L, info->device_index);
    lua_setfield(L, -2, "device_index");
    lua_pushfstring(L, "%d:%d", info->platform_index, info->device_index);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, info->platform_name);
    lua_setfield(L, -2, "platform");
    lua_pushstring(L, info->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, info->vendor);
    lua_setfield(L, -2, "vendor");
    lua_pushstring(L, info->version);
    lua_setfield(L, -2, "version");
    lua_pushstring(L, info->driver_version);
    lua_setfield(L, -2, "driver_version");
    const char *type = "other";
    if (info->is_gpu)
        type = "GPU";
    else if (info->is_cpu)
        type = "CPU";
    lua_pushstring(L, type);
    lua_setfield(L, -2, "type");
    lua_pushinteger(L, (lua_Integer)info->compute_units);
    lua_setfield(L, -2, "compute_units");
    lua_pushinteger(L, (lua_Integer)info->global_memory);
    lua_setfield(L, -2, "global_memory");
    lua_pushinteger(L, (lua_Integer)info->max_allocation);
    lua_setfield(L, -2, "max_allocation");
    lua_pushinteger(L, (lua_Integer)info->local_memory);
    lua_setfield(L, -2, "local_memory");
    lua_pushinteger(L, (lua_Integer)info->max_work_group_size);
    lua_setfield(L, -2, "max_work_group_size");
    lua_pushboolean(L, info->has_fp64);
    lua_setfield(L, -2, "fp64");
}


static int l_devices(lua_State *L)
{
    d3m_device_info *devices = NULL;
    int count = 0;
    d3m_lua_check(L, d3m_list_devices(&devices, &count));
    lua_createtable(L, count, 0);
    for (int i = 0; i < count; i++) {
        push_info(L, &devices[i]);
        lua_seti(L, -2, i + 1);
    }
    free(devices);
    return 1;
}


static int l_use_device(lua_State *L)
{
    const char *spec = luaL_optstring(L, 1, NULL);
    d3m_lua_check(L, d3m_use_device(spec));
    d3m_device_info info;
    d3m_lua_check(L, d3m_current_device(&info));
    push_info(L, &info);
    return 1;
}


static int l_device(lua_State *L)
{
    d3m_device_info info;
    d3m_lua_check(L, d3m_current_device(&info));
    push_info(L, &info);
    return 1;
}


static int l_finish(lua_State *L)
{
    d3m_lua_check(L, d3m_finish());
    return 0;
}


static int l_last_error(lua_State *L)
{
    lua_pushstring(L, d3m_last_error());
    return 1;
}


/* d3m.time(): monotonic wall-clock seconds, for rates and timings. */
static int l_time(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + 1e-9 * (lua_Number)ts.tv_nsec);
    return 1;
}


static const luaL_Reg functions[] = {
    {"devices", l_devices}, {"use_device", l_use_device}, {"device", l_device},
    {"finish", l_finish}, {"last_error", l_last_error}, {"time", l_time}, {NULL, NULL}};


int d3m_open_device(lua_State *L)
{
    luaL_setfuncs(L, functions, 0);
    lua_pushstring(L, d3m_version());
    lua_setfield(L, -2, "version");
    return 0;
}
