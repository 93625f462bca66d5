/*
 * cloak-trace profile: make an OS profile (trace-plugins/os-profile.h)
 * from a guest kernel's own BTF.
 */
#ifndef CLOAK_TRACE_PROFILE_GEN_H
#define CLOAK_TRACE_PROFILE_GEN_H

/* argv[0] is "profile"; returns the exit status. */
int ct_profile_main(int argc, char **argv);

#endif
