/* cmd_info.c — `spiral info [--json]`: what is compiled in, which devices exist,
 * which device `auto` picks and why. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int cmd_info(int argc, char **argv) {
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else return cli_usage("info", "unknown option '%s'", argv[i]);
    }
    st_device chosen = {ST_BACKEND_CPU, 0};
    st_status auto_st = st_device_auto(&chosen);
    char auto_err[512] = "";
    if (auto_st != ST_OK) snprintf(auto_err, sizeof auto_err, "%s", st_last_error());
    char report[4096];
    st_device_auto_report(report, sizeof report);
    st_heur_source_info srcs[8];
    int nsrc = st_heur_sources(srcs, 8);
    if (nsrc > 8) nsrc = 8;

    if (json) printf("{\"version\":\"%s\",\"backends\":[", st_version());
    else printf("spiraltorch %s\n\nbackends:\n", st_version());
    for (int k = 0; k < ST_NUM_BACKENDS; k++) {
        char why[256] = "";
        bool compiled = st_backend_compiled((st_backend_kind)k);
        int n = st_backend_device_count((st_backend_kind)k, why, sizeof why);
        if (json) {
            printf("%s{\"name\":\"%s\",\"compiled\":%s,\"devices\":[", k ? "," : "", st_backend_name((st_backend_kind)k),
                   compiled ? "true" : "false");
        } else {
            printf("  %-7s %s", st_backend_name((st_backend_kind)k), compiled ? "compiled in" : "not compiled in");
            if (compiled) printf(", %d device(s)%s%s", n, n ? "" : ": ", n ? "" : why);
            printf("\n");
        }
        for (int d = 0; d < n; d++) {
            char desc[512];
            if (st_device_describe((st_device){(st_backend_kind)k, d}, desc, sizeof desc) != ST_OK)
                snprintf(desc, sizeof desc, "(%s)", st_last_error());
            if (json) {
                printf("%s", d ? "," : "");
                cli_json_str(stdout, desc);
            } else {
                printf("          [%d] %s\n", d, desc);
            }
        }
        if (json) {
            printf("],\"why\":");
            cli_json_str(stdout, n ? "" : why);
            printf("}");
        }
    }
    if (json) {
        printf("],\"auto\":{\"device\":\"%s:%d\",\"ok\":%s,\"report\":", st_backend_name(chosen.kind), chosen.index,
               auto_st == ST_OK ? "true" : "false");
        cli_json_str(stdout, report);
        printf(",\"error\":");
        cli_json_str(stdout, auto_err);
        printf("},\"threads\":%d,\"heuristics\":[", st_get_num_threads());
        for (int i = 0; i < nsrc; i++) {
            printf("%s{\"source\":", i ? "," : "");
            cli_json_str(stdout, srcs[i].name);
            printf(",\"active\":%s,\"detail\":", srcs[i].active ? "true" : "false");
            cli_json_str(stdout, srcs[i].detail);
            printf("}");
        }
        printf("]}\n");
    } else {
        printf("\nauto device: %s:%d\n%s", st_backend_name(chosen.kind), chosen.index, report);
        if (auto_st != ST_OK) printf("error: %s\n", auto_err);
        printf("\ncpu threads: %d\n", st_get_num_threads());
        printf("\nheuristic sources (in priority order):\n");
        for (int i = 0; i < nsrc; i++) printf("  %-22s %s\n", srcs[i].name, srcs[i].detail);
    }
    return auto_st == ST_OK ? CLI_OK : CLI_ERR;
}
