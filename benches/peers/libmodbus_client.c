/* A libmodbus client for the benchmarks: N sequential reads of 4 holding
 * registers at 0x1000 (the 4 120 83's measurement block) from unit 5.
 *   libmodbus_client tcp HOST PORT N
 *   libmodbus_client rtu DEVICE BAUD PARITY(N|E|O) N
 * Prints one line: transport, N, failures, seconds, transactions per second,
 * and the CPU time this process spent per transaction over the N reads
 * (getrusage RUSAGE_SELF, user + system, and each apart, in microseconds). */
#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* User and system CPU seconds of this process so far. */
static void cpu(double *user, double *sys) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    *user = r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6;
    *sys = r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    modbus_t *ctx = NULL;
    int n = 0;
    if (argc == 5 && strcmp(argv[1], "tcp") == 0) {
        ctx = modbus_new_tcp(argv[2], atoi(argv[3]));
        n = atoi(argv[4]);
    } else if (argc == 6 && strcmp(argv[1], "rtu") == 0) {
        ctx = modbus_new_rtu(argv[2], atoi(argv[3]), argv[4][0], 8, 1);
        n = atoi(argv[5]);
    } else {
        fprintf(stderr, "usage: %s tcp HOST PORT N | rtu DEVICE BAUD PARITY N\n", argv[0]);
        return 2;
    }
    if (ctx == NULL || modbus_set_slave(ctx, 5) == -1 || modbus_connect(ctx) == -1) {
        fprintf(stderr, "connect: %s\n", modbus_strerror(errno));
        return 3;
    }
    modbus_set_response_timeout(ctx, 1, 0);
    uint16_t regs[4];
    int failures = 0;
    double u0, s0, u1, s1;
    cpu(&u0, &s0);
    double t0 = now();
    for (int i = 0; i < n; i++) {
        if (modbus_read_registers(ctx, 0x1000, 4, regs) != 4) {
            failures++;
            modbus_flush(ctx);
        }
    }
    double dt = now() - t0;
    cpu(&u1, &s1);
    double us = 1e6 / (n > 0 ? n : 1);
    printf("libmodbus %s n=%d failures=%d seconds=%.3f user_us=%.2f sys_us=%.2f cpu_us=%.2f tps=%.0f\n",
           argv[1], n, failures, dt, (u1 - u0) * us, (s1 - s0) * us, (u1 - u0 + s1 - s0) * us, n / dt);
    modbus_close(ctx);
    modbus_free(ctx);
    return failures == 0 ? 0 : 1;
}
