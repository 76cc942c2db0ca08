/* measure: run a shell command, then print its wall time and peak resident memory on stderr.
 *   measure 'graph-parse nb101 > /dev/null'
 * prints "wall_s=1.234 peak_rss_mb=12.3" (peak RSS of the largest process the command started). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: measure 'COMMAND'\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) return 3;
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", argv[1], (char *)NULL);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) return 3;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct rusage kids;
    getrusage(RUSAGE_CHILDREN, &kids); /* maximum over all descendants waited for */
    double wall = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("wall_s=%.3f peak_rss_mb=%.1f\n", wall, (double)kids.ru_maxrss / 1024.0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
