/*
 * main.c - the `d3m` interpreter: lua5.4's command line (-e, -l, -i, -v,
 * SCRIPT [args]) with the d3m module preloaded as the global `d3m`, plus
 * subcommands that run the user scripts: `d3m devices`, `d3m train --help`...
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "d3m.h"

int luaopen_d3m_core(lua_State *L);

static const char *const subcommands[] = {"devices", "generate", "train", "predict", "evaluate",
                                          "demo", "bench", "selfcheck", NULL};

static char lua_dir[2 * PATH_MAX];
static char script_dir[2 * PATH_MAX];


static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}


/* Find the Lua files and scripts: $D3M_LUA_DIR / $D3M_SCRIPT_DIR, else the
 * installed tree next to this executable, else the source tree it was
 * built from. */
static void locate_files(void)
{
    char exe[PATH_MAX], probe[2 * PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';

    snprintf(lua_dir, sizeof lua_dir, "%s/lua", D3M_SOURCE_DIR);
    snprintf(script_dir, sizeof script_dir, "%s/scripts", D3M_SOURCE_DIR);
    snprintf(probe, sizeof probe, "%s/../%s/d3m/init.lua", exe, D3M_INSTALLED_LUA_DIR);
    if (exe[0] && is_file(probe)) {
        snprintf(lua_dir, sizeof lua_dir, "%s/../%s", exe, D3M_INSTALLED_LUA_DIR);
        snprintf(script_dir, sizeof script_dir, "%s/../%s", exe, D3M_INSTALLED_SCRIPT_DIR);
    }
    const char *env = getenv("D3M_LUA_DIR");
    if (env && env[0])
        snprintf(lua_dir, sizeof lua_dir, "%s", env);
    env = getenv("D3M_SCRIPT_DIR");
    if (env && env[0])
        snprintf(script_dir, sizeof script_dir, "%s", env);
}


/* Commands (d3m train, ...) report errors to users of the tool, not to
 * Lua programmers: without $D3M_DEBUG their messages lose the stack
 * traceback and the "file.lua:123: " positions in front. */
static int command_mode;


static const char *skip_positions(const char *msg)
{
    for (;;) {
        const char *colon = strstr(msg, ".lua:");
        if (colon == NULL || strchr(msg, ' ') < colon)
            return msg;
        const char *p = colon + 5;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == colon + 5 || p[0] != ':' || p[1] != ' ')
            return msg;
        msg = p + 2;
    }
}


static int report(lua_State *L, int status)
{
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        if (msg == NULL)
            msg = "(error object is not a string)";
        const char *debug = getenv("D3M_DEBUG");
        if (command_mode && !(debug && debug[0] && strcmp(debug, "0") != 0)) {
            msg = skip_positions(msg);
            const char *trace = strstr(msg, "\nstack traceback:");
            fprintf(stderr, "d3m: %.*s\n", trace ? (int)(trace - msg) : (int)strlen(msg), msg);
        } else {
            fprintf(stderr, "d3m: %s\n", msg);
        }
        fflush(stderr);
        lua_pop(L, 1);
    }
    return status;
}


static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL)
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}


static int docall(lua_State *L, int nargs, int nresults)
{
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    return status;
}


/* package.path gets the d3m Lua folder first; d3m.core is preloaded; the
 * global d3m is the module. */
static int setup(lua_State *L)
{
    luaL_openlibs(L);
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", lua_dir, lua_dir);
    lua_getfield(L, -2, "path");
    lua_concat(L, 2);
    lua_setfield(L, -2, "path");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, luaopen_d3m_core);
    lua_setfield(L, -2, "d3m.core");
    lua_pop(L, 2);
    lua_pushstring(L, script_dir);
    lua_setglobal(L, "D3M_SCRIPT_DIR");

    lua_getglobal(L, "require");
    lua_pushliteral(L, "d3m");
    int status = docall(L, 1, 1);
    if (status != LUA_OK)
        return report(L, status);
    lua_setglobal(L, "d3m");
    return LUA_OK;
}


/* The global arg table: arg[0] is the script, negative indices before it. */
static void create_arg_table(lua_State *L, char **argv, int argc, int script)
{
    lua_createtable(L, argc - script - 1, script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}


static int run_script(lua_State *L, const char *path, char **argv, int argc, int script)
{
    create_arg_table(L, argv, argc, script);
    int status = luaL_loadfile(L, strcmp(path, "-") == 0 ? NULL : path);
    if (status != LUA_OK)
        return report(L, status);
    int nargs = argc - script - 1;
    luaL_checkstack(L, nargs, "too many arguments to the script");
    for (int i = script + 1; i < argc; i++)
        lua_pushstring(L, argv[i]);
    return report(L, docall(L, nargs, 0));
}


static int run_string(lua_State *L, const char *code, const char *name)
{
    int status = luaL_loadbuffer(L, code, strlen(code), name);
    if (status == LUA_OK)
        status = docall(L, 0, 0);
    return report(L, status);
}


static int require_module(lua_State *L, const char *spec)
{
    const char *eq = strchr(spec, '=');
    lua_getglobal(L, "require");
    lua_pushstring(L, eq ? eq + 1 : spec);
    int status = docall(L, 1, 1);
    if (status != LUA_OK)
        return report(L, status);
    if (eq)
        lua_pushlstring(L, spec, (size_t)(eq - spec));
    else
        lua_pushstring(L, spec);
    lua_insert(L, -2);
    lua_setglobal(L, lua_tostring(L, -2));
    lua_pop(L, 1);
    return LUA_OK;
}


/* A plain read-eval-print loop: expressions are printed, and a statement
 * that is not complete yet reads more lines. */
static void interactive(lua_State *L)
{
    char line[4096];
    lua_pushliteral(L, "");
    for (;;) {
        fputs(lua_rawlen(L, -1) ? ">> " : "> ", stdout);
        fflush(stdout);
        if (fgets(line, sizeof line, stdin) == NULL)
            break;
        lua_pushstring(L, line);
        lua_concat(L, 2);
        const char *chunk = lua_tostring(L, -1);

        lua_pushfstring(L, "return %s", chunk);
        int status = luaL_loadbuffer(L, lua_tostring(L, -1), lua_rawlen(L, -1), "=stdin");
        lua_remove(L, -2);
        if (status != LUA_OK) {
            lua_pop(L, 1);
            status = luaL_loadbuffer(L, chunk, strlen(chunk), "=stdin");
            if (status == LUA_ERRSYNTAX && strstr(lua_tostring(L, -1), "<eof>") != NULL) {
                lua_pop(L, 1);
                continue;   /* incomplete: keep reading */
            }
        }
        lua_remove(L, -2);   /* the chunk text */
        int base = lua_gettop(L);
        if (status == LUA_OK)
            status = docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK && lua_gettop(L) >= base) {
            int n = lua_gettop(L) - base + 1;
            lua_getglobal(L, "print");
            lua_insert(L, -n - 1);
            status = lua_pcall(L, n, 0, 0);
        }
        report(L, status);
        lua_settop(L, base - 1);
        lua_pushliteral(L, "");
    }
    lua_pop(L, 1);
    fputs("\n", stdout);
}


static void print_usage(void)
{
    printf("usage: d3m [options] [script [args]]\n"
           "       d3m COMMAND [--help | options]\n"
           "Lua 5.4 with the d3m module loaded as the global 'd3m'.\n"
           "Options:\n"
           "  -e stat   execute string 'stat'\n"
           "  -l mod    require library 'mod' into global 'mod' (-l g=mod: into 'g')\n"
           "  -i        enter interactive mode after running the script\n"
           "  -v        print version information\n"
           "  --        stop handling options\n"
           "  -         execute stdin and stop handling options\n"
           "Commands (each has --help):\n"
           "  devices   list OpenCL platforms and devices\n"
           "  selfcheck run a short device, tensor and FFT check\n"
           "  generate  generate ZA, 2LPT and FastPM training data\n"
           "  train     train a D3M model\n"
           "  predict   predict displacements with a trained model\n"
           "  evaluate  compare predictions with FastPM (Table 1 of He et al. 2019)\n"
           "  demo      the whole pipeline at a small size\n"
           "  bench     benchmarks\n"
           "Environment: D3M_DEVICE (P:D or part of a device name), D3M_FFT, D3M_CL_FINISH=1,\n"
           "D3M_PROFILE=1, D3M_MEMORY_LIMIT (MiB), D3M_CIC_ATOMICS=32, D3M_LUA_DIR,\n"
           "D3M_SCRIPT_DIR, D3M_DEBUG=1 (commands print Lua positions and stack tracebacks\n"
           "of errors).\n");
}


static int subcommand_index(const char *word)
{
    for (int i = 0; subcommands[i] != NULL; i++)
        if (strcmp(word, subcommands[i]) == 0)
            return i;
    return -1;
}


static int run_subcommand(lua_State *L, char **argv, int argc)
{
    char path[3 * PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.lua", script_dir, argv[1]);
    if (!is_file(path)) {
        fprintf(stderr, "d3m: the '%s' command is not available: %s not found "
                "(set D3M_SCRIPT_DIR to the scripts folder)\n", argv[1], path);
        return 1;
    }
    command_mode = 1;
    return run_script(L, path, argv, argc, 1) == LUA_OK ? 0 : 1;
}


/* Handle lua5.4-style options; returns the exit status. */
static int run_command_line(lua_State *L, char **argv, int argc)
{
    int interactive_flag = 0, ran_something = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(opt, "-") == 0)
            break;
        if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
            print_usage();
            return 0;
        }
        if (strcmp(opt, "-v") == 0) {
            printf("d3m %s (%s)\n", d3m_version(), LUA_RELEASE);
            ran_something = 1;
        } else if (strcmp(opt, "-i") == 0) {
            interactive_flag = 1;
        } else if ((strcmp(opt, "-e") == 0 || strcmp(opt, "-l") == 0)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "d3m: '%s' needs an argument\n", opt);
                return 1;
            }
            int status = opt[1] == 'e' ? run_string(L, argv[++i], "=(command line)")
                                       : require_module(L, argv[++i]);
            if (status != LUA_OK)
                return 1;
            ran_something = 1;
        } else {
            fprintf(stderr, "d3m: unrecognized option '%s'\n", opt);
            print_usage();
            return 1;
        }
    }

    if (i < argc) {
        /* A missing file whose name has no '.' or '/' was more likely meant as a
         * command than as a script. */
        int looks_like_command = strcmp(argv[i], "-") != 0 && strpbrk(argv[i], "./") == NULL;
        if (looks_like_command && !is_file(argv[i])) {
            fprintf(stderr, "d3m: '%s' is neither a command nor a Lua script; the commands "
                    "are", argv[i]);
            for (int c = 0; subcommands[c] != NULL; c++)
                fprintf(stderr, "%s %s", c == 0 ? "" : ",", subcommands[c]);
            fprintf(stderr, " (d3m COMMAND --help explains one)\n");
            return 1;
        }
        if (run_script(L, argv[i], argv, argc, i) != LUA_OK)
            return 1;
        ran_something = 1;
    }
    if (interactive_flag || (!ran_something && isatty(0)))
        interactive(L);
    else if (!ran_something)
        return run_script(L, "-", argv, argc, argc - 1) == LUA_OK ? 0 : 1;
    return 0;
}


int main(int argc, char **argv)
{
    locate_files();
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "d3m: cannot create the Lua state: out of memory\n");
        return 1;
    }
    int code = 1;
    if (setup(L) == LUA_OK) {
        if (argc > 1 && subcommand_index(argv[1]) >= 0)
            code = run_subcommand(L, argv, argc);
        else
            code = run_command_line(L, argv, argc);
    }
    lua_close(L);
    return code;
}
