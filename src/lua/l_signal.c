/* l_signal.c - d3m.signals: record SIGINT / SIGTERM instead of dying, so a
 * long loop (training) can write a checkpoint and stop at a safe point.
 *
 *   d3m.signals.watch{"INT", "TERM"}   install recording handlers
 *   d3m.signals.pending() -> "TERM"    first signal received since the
 *                                      last call (nil when none); clears it
 *   d3m.signals.unwatch()              restore the previous handlers
 *   d3m.signals.raise("TERM")          send a signal to this process
 *
 * The handler only sets a flag (async-signal-safe). It is installed with
 * SA_RESETHAND, so a second signal of the same kind acts as if nothing
 * were watched: a second Ctrl-C ends a run that does not stop on its own. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <strings.h>

#include "lbind.h"

int d3m_open_signal(lua_State *L);

struct watched_signal {
    const char *name;
    int number;
    volatile sig_atomic_t received;
    int installed;
    struct sigaction previous;
};

/* The previous handlers are filled in by watch. */
static struct watched_signal signals[] = {
    {.name = "INT", .number = SIGINT}, {.name = "TERM", .number = SIGTERM},
    {.name = "HUP", .number = SIGHUP}, {.name = "USR1", .number = SIGUSR1},
};

#define SIGNAL_COUNT ((int)(sizeof signals / sizeof signals[0]))


static void record(int number)
{
    for (int i = 0; i < SIGNAL_COUNT; i++)
        if (signals[i].number == number)
            signals[i].received = 1;
}


/* Accepts "TERM", "SIGTERM" and lower case. */
static struct watched_signal *check_signal(lua_State *L, int idx)
{
    const char *name = luaL_checkstring(L, idx);
    if (strncmp(name, "SIG", 3) == 0 || strncmp(name, "sig", 3) == 0)
        name += 3;
    for (int i = 0; i < SIGNAL_COUNT; i++)
        if (strcasecmp(name, signals[i].name) == 0)
            return &signals[i];
    luaL_error(L, "unknown signal '%s': expected INT, TERM, HUP or USR1", luaL_checkstring(L, idx));
    return NULL;
}


static void restore(struct watched_signal *s)
{
    if (s->installed) {
        sigaction(s->number, &s->previous, NULL);
        s->installed = 0;
    }
}


/* watch{names}: records each listed signal; a pending flag is cleared. */
static int l_watch(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer count = luaL_len(L, 1);
    for (lua_Integer i = 1; i <= count; i++) {
        lua_geti(L, 1, i);
        struct watched_signal *s = check_signal(L, -1);
        lua_pop(L, 1);

        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = record;
        action.sa_flags = SA_RESETHAND | SA_RESTART;
        sigemptyset(&action.sa_mask);
        struct sigaction previous;
        if (sigaction(s->number, &action, &previous) != 0)
            return luaL_error(L, "sigaction(SIG%s) failed: %s", s->name, strerror(errno));
        if (!s->installed)
            s->previous = previous;
        s->installed = 1;
        s->received = 0;
    }
    return 0;
}


static int l_pending(lua_State *L)
{
    for (int i = 0; i < SIGNAL_COUNT; i++) {
        if (signals[i].received) {
            signals[i].received = 0;
            lua_pushstring(L, signals[i].name);
            return 1;
        }
    }
    lua_pushnil(L);
    return 1;
}


static int l_unwatch(lua_State *L)
{
    for (int i = 0; i < SIGNAL_COUNT; i++) {
        restore(&signals[i]);
        signals[i].received = 0;
    }
    return 0;
}


static int l_raise(lua_State *L)
{
    struct watched_signal *s = check_signal(L, 1);
    if (raise(s->number) != 0)
        return luaL_error(L, "raise(SIG%s) failed", s->name);
    return 0;
}


static const luaL_Reg functions[] = {
    {"watch", l_watch}, {"pending", l_pending}, {"unwatch", l_unwatch}, {"raise", l_raise},
    {NULL, NULL}};


int d3m_open_signal(lua_State *L)
{
    d3m_lua_subtable(L, -1, "signals");
    luaL_setfuncs(L, functions, 0);
    lua_pop(L, 1);
    return 0;
}
