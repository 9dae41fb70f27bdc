/* testredis.h — the tests' own redis-server: started once on a free loopback port in
 * folder g_dir (a temporary folder the including test creates), killed by PID at exit (signals
 * included). Shared by test_kv.c and test_tune_kv.c; header-only so that each test
 * stays one executable. Needs hiredis (ST_HAVE_HIREDIS) and testlib.h. */
#ifndef ST_TESTREDIS_H
#define ST_TESTREDIS_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t g_pid = -1;
static int g_port;
static char g_dir[256];

/* A loopback socket bound to a free port (listening when listen_ is set). */
static int bind_free(int *port, bool listen_) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &len) ||
        (listen_ && listen(fd, 8))) {
        if (fd >= 0) close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static void stop_server(void) {
    if (g_pid > 0) {
        kill(g_pid, SIGKILL);
        waitpid(g_pid, NULL, 0);
        g_pid = -1;
    }
}
static void on_signal(int sig) {
    if (g_pid > 0) kill(g_pid, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

static bool have_redis_server(void) {
    const char *path = getenv("PATH");
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path ? path : "/usr/bin:/bin");
    for (char *save = NULL, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char p[4200];
        snprintf(p, sizeof p, "%s/redis-server", d);
        if (access(p, X_OK) == 0) return true;
    }
    return false;
}

static redisContext *cli(void) {
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", g_port, tv);
    if (c && c->err) {
        redisFree(c);
        c = NULL;
    }
    return c;
}

/* The test's redis-server (started once). false: skip. */
static bool server(void) {
    static int state; /* 0 unknown, 1 up, 2 absent */
    if (state) return state == 1;
    state = 2;
    if (!have_redis_server()) {
        printf("  (skipped: redis-server not found on PATH)\n");
        return false;
    }
    int fd = bind_free(&g_port, false);
    if (fd < 0) return false;
    close(fd);
    char port[16];
    snprintf(port, sizeof port, "%d", g_port);
    g_pid = fork();
    if (g_pid == 0) {
        int dn = open("/dev/null", O_WRONLY);
        if (dn >= 0) dup2(dn, 1), dup2(dn, 2);
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--enable-debug-command", "yes", "--dir", g_dir, (char *)NULL);
        _exit(127);
    }
    atexit(stop_server);
    signal(SIGSEGV, on_signal);
    signal(SIGABRT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    for (int i = 0; i < 200; i++) {
        redisContext *c = cli();
        if (c) {
            redisReply *r = redisCommand(c, "PING");
            bool ok = r && r->type == REDIS_REPLY_STATUS;
            if (r) freeReplyObject(r);
            redisFree(c);
            if (ok) return (state = 1) == 1;
        }
        usleep(10000);
    }
    printf("  (redis-server did not start on port %d)\n", g_port);
    CHECK(0);
    return false;
}

#endif
