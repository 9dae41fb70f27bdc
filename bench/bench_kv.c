/* bench_kv.c — what the Redis source costs a heuristics choice (issue 8): a warm choice
 * with and without REDIS_URL, a chain-cache miss answered from the process's Redis
 * cache, a cold choice (one GET+PTTL round trip), and the added latency while Redis is
 * down (refused) or hung (the timeout, then back-off). Starts its own redis-server on a
 * free loopback port (skips the Redis rows when it is absent) and kills it at the end.
 * Prints a table. Usage: bench_kv [iterations] */
#include "spiraltorch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int bind_free(int *port, int listen_) {
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

static int ping(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = 0;
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        char buf[16];
        ok = write(fd, "PING\r\n", 6) == 6 && read(fd, buf, sizeof buf) > 0 && buf[0] == '+';
    }
    if (fd >= 0) close(fd);
    return ok;
}

static void url(int port) {
    char u[64];
    if (port < 0) {
        unsetenv("REDIS_URL");
    } else {
        snprintf(u, sizeof u, "redis://127.0.0.1:%d/", port);
        setenv("REDIS_URL", u, 1);
    }
    st_heur_reload();
}

/* ns per warm choice (same shape), per chain miss (new rows each time). */
static double warm(long n) {
    st_heur_choice c;
    st_heur_choose(8, 4096, 16, false, &c);
    double t0 = now_ns();
    for (long i = 0; i < n; i++) st_heur_choose(8, 4096, 16, false, &c);
    return (now_ns() - t0) / (double)n;
}
static long g_rows = 1000;
static double miss(long n) {
    st_heur_choice c;
    double t0 = now_ns();
    for (long i = 0; i < n; i++) st_heur_choose(g_rows++, 4096, 16, false, &c);
    return (now_ns() - t0) / (double)n;
}
/* ns of the first choice after a reload (drops every cache), averaged. */
static double cold(int n) {
    st_heur_choice c;
    double sum = 0;
    for (int i = 0; i < n; i++) {
        st_heur_reload();
        double t0 = now_ns();
        st_heur_choose(8, 4096, 16, false, &c);
        sum += now_ns() - t0;
    }
    return sum / n;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    if (n < 1000) n = 1000;
    st_set_log_level(ST_LOG_ERROR);
    st_heur_set_recheck_ms(1000000);
    int port = -1, lfd = bind_free(&port, 0);
    if (lfd >= 0) close(lfd);
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        int dn = open("/dev/null", O_WRONLY);
        if (dn >= 0) dup2(dn, 1), dup2(dn, 2);
        execlp("redis-server", "redis-server", "--port", ps, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               (char *)NULL);
        _exit(127);
    }
    int up = 0;
    for (int i = 0; i < 200 && !(up = ping(port)); i++) usleep(10000);

    printf("%-58s %14s\n", "case", "time");
    url(-1);
    printf("%-58s %11.1f ns\n", "warm choice, no REDIS_URL", warm(n));
    printf("%-58s %11.1f ns\n", "chain-cache miss (new shape), no REDIS_URL", miss(n / 100));
    printf("%-58s %11.1f us\n", "cold choice after reload, no REDIS_URL", cold(200) / 1e3);
    if (up) {
        url(port);
        printf("%-58s %11.1f ns\n", "warm choice, Redis configured", warm(n));
        printf("%-58s %11.1f ns\n", "chain-cache miss, answered by the Redis cache", miss(n / 100));
        printf("%-58s %11.1f us\n", "cold choice after reload (one GET+PTTL round trip)", cold(200) / 1e3);
    } else {
        printf("(redis-server not available: Redis rows skipped)\n");
    }
    int dead = -1, dfd = bind_free(&dead, 0); /* bound, not listening: refused */
    url(dead);
    printf("%-58s %11.1f us\n", "Redis down (refused): first choice", cold(1) / 1e3);
    printf("%-58s %11.1f us\n", "Redis down: cold choices during back-off (avg of 200)", cold(200) / 1e3);
    printf("%-58s %11.1f ns\n", "Redis down: warm choice", warm(n));
    int hung = -1, hfd = bind_free(&hung, 1); /* listening, never answers */
    url(hung);
    printf("%-58s %11.1f us\n", "Redis hung (50 ms timeout): first choice", cold(1) / 1e3);
    printf("%-58s %11.1f us\n", "Redis hung: cold choices during back-off (avg of 200)", cold(200) / 1e3);
    url(-1);
    if (dfd >= 0) close(dfd);
    if (hfd >= 0) close(hfd);
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    return 0;
}
