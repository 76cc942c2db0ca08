/* platform.c: the CPU model and the BLAS build (see platform.h). */
#include "platform.h"

#include <stdio.h>
#include <string.h>

char *openblas_get_config(void);
int openblas_get_num_threads(void);

const char *platform_cpu(void) {
    static char cpu[256];
    if (cpu[0]) return cpu;
    snprintf(cpu, sizeof cpu, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return cpu;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        const char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) != 0 || !colon) continue;
        colon += 1 + (colon[1] == ' ');
        snprintf(cpu, sizeof cpu, "%.*s", (int)strcspn(colon, "\n"), colon);
        break;
    }
    fclose(f);
    return cpu;
}

const char *platform_blas(void) {
    static char blas[320];
    snprintf(blas, sizeof blas, "%.250s threads %d", openblas_get_config(), openblas_get_num_threads());
    return blas;
}
