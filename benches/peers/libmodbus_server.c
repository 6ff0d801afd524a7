/* A libmodbus TCP server for the benchmarks: unit 5's holding registers
 * 0x1000..0x1003 hold 230 V in mV and 10 A in mA, as the 4 120 83 does.
 *   libmodbus_server PORT   (serves one client after another, forever) */
#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", atoi(argv[1]));
    modbus_mapping_t *map = modbus_mapping_new_start_address(0, 0, 0, 0, 0x1000, 4, 0, 0);
    if (ctx == NULL || map == NULL) {
        fprintf(stderr, "setup failed\n");
        return 3;
    }
    map->tab_registers[0] = 3;      /* 230 000 mV, high word */
    map->tab_registers[1] = 33392;  /* low word */
    map->tab_registers[2] = 0;
    map->tab_registers[3] = 10000;  /* 10 000 mA */
    int listener = modbus_tcp_listen(ctx, 1);
    if (listener == -1) {
        fprintf(stderr, "listen: %s\n", modbus_strerror(errno));
        return 3;
    }
    printf("libmodbus server listening on %s\n", argv[1]);
    fflush(stdout);
    uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
    for (;;) {
        modbus_tcp_accept(ctx, &listener);
        for (;;) {
            int rc = modbus_receive(ctx, query);
            if (rc > 0) {
                modbus_reply(ctx, query, rc, map);
            } else if (rc == -1) {
                break;
            }
        }
        modbus_close(ctx);
    }
}
