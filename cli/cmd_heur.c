/* cmd_heur.c — `spiral heur choose ...` (the chain's choice and each field's source)
 * and `spiral heur check FILE` (SpiralK diagnostics; exit 1 when there are errors).
 * Public API only; JSON shape per SPEC §11. */
#include "cli.h"

#include <string.h>

static int parse_opt(const char *name, const char *val, long long *out) {
    if (!val) return cli_usage("heur", "%s needs a value", name);
    if (cli_parse_i64(val, out) != 0) return cli_usage("heur", "%s: '%s' is not a non-negative integer", name, val);
    return CLI_OK;
}

static void print_json(const st_heur_explanation *ex) {
    printf("{\"kind\":\"%s\",\"fields\":{", ex->kind == ST_HEUR_MIDK ? "midk" : "topk");
    for (int i = 0; i < ex->nfields; i++) {
        const st_heur_field_explanation *f = &ex->fields[i];
        printf("%s\"%s\":{\"value\":", i ? "," : "", f->name);
        if (f->is_bool) printf("%s", f->value ? "true" : "false");
        else printf("%d", (int)f->value);
        printf(",\"source\":");
        cli_json_str(stdout, f->where);
        printf("}");
    }
    printf("}}\n");
}

static void print_text(const st_heur_explanation *ex, long long r, long long c, long long k, int sg) {
    printf("%s choice for rows=%lld cols=%lld k=%lld subgroup=%d\n", ex->kind == ST_HEUR_MIDK ? "midk" : "topk", r, c,
           k, sg);
    for (int i = 0; i < ex->nfields; i++) {
        const st_heur_field_explanation *f = &ex->fields[i];
        char val[32];
        if (f->is_bool) snprintf(val, sizeof val, "%s", f->value ? "true" : "false");
        else snprintf(val, sizeof val, "%d", (int)f->value);
        printf("  %-6s %-8s %s\n", f->name, val, f->where);
    }
}

static int heur_choose(int argc, char **argv) {
    long long r = -1, c = -1, k = -1, sg = 0;
    int json = 0, midk = 0, rc;
    const char *devname = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long *dst = !strcmp(a, "--rows")       ? &r
                         : !strcmp(a, "--cols")     ? &c
                         : !strcmp(a, "--k")        ? &k
                         : !strcmp(a, "--subgroup") ? &sg
                                                    : NULL;
        if (dst) {
            if ((rc = parse_opt(a, v, dst)) != CLI_OK) return rc;
            i++;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--midk")) {
            midk = 1;
        } else if (!strcmp(a, "--device") && v) {
            devname = v; /* the chain answers for that device: its limits, its tables */
            i++;
        } else {
            return cli_usage("heur", "unknown option '%s'", a);
        }
    }
    if (sg > 1) return cli_usage("heur", "--subgroup must be 0 or 1");
    if (r < 0 || c < 0 || k < 0) return cli_usage("heur", "choose needs --rows, --cols and --k");
    if (devname) {
        st_device d;
        if ((rc = cli_device("heur", devname, &d)) != 0) return rc;
        if (st_heur_set_device(d) != ST_OK) return cli_fail("heur");
    }
    st_heur_explanation ex;
    if (st_heur_explain(midk ? ST_HEUR_MIDK : ST_HEUR_TOPK, r, c, k, sg != 0, &ex) != ST_OK) return cli_fail("heur");
    if (json) print_json(&ex);
    else print_text(&ex, r, c, k, (int)sg);
    return CLI_OK;
}

static int heur_check(int argc, char **argv) {
    if (argc != 2 || argv[1][0] == '-') return cli_usage("heur", "check needs exactly one FILE");
    static char diag[16384];
    st_status st = st_heur_check_file(argv[1], diag, sizeof diag);
    if (st == ST_E_FORMAT) {
        fprintf(stderr, "%s\n", diag);
        return CLI_ERR;
    }
    if (st != ST_OK) return cli_fail("heur");
    printf("%s: ok\n", argv[1]);
    return CLI_OK;
}

int cmd_heur(int argc, char **argv) {
    if (argc < 2) return cli_usage("heur", "missing subcommand (choose or check)");
    if (!strcmp(argv[1], "choose")) return heur_choose(argc - 1, argv + 1);
    if (!strcmp(argv[1], "check")) return heur_check(argc - 1, argv + 1);
    return cli_usage("heur", "unknown subcommand '%s' (choose or check)", argv[1]);
}
