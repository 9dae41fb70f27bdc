// rx_scan.glsl — workgroup-wide exclusive prefix sums for the rx kernels.
// With RX_SG (the device has subgroup arithmetic + ballot): subgroup scans, one shared
// slot per subgroup; else a shared-memory Hillis-Steele scan. Every thread must call
// (uniform control flow); each call ends with a barrier, so calls may follow each other.
#ifdef RX_SG
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_KHR_shader_subgroup_vote : require
// Subgroups are at least 4 wide on every device we run (lavapipe 8, NVIDIA 32, AMD 32/64);
// slot [nsg] holds the total.
shared uvec3 scan_s[gl_WorkGroupSize.x / 4u + 2u];

uvec3 scan_u3(uvec3 v, out uvec3 total) {
    uvec3 incl = subgroupInclusiveAdd(v);
    uint sg = gl_SubgroupID, nsg = gl_NumSubgroups;
    if (gl_SubgroupInvocationID == gl_SubgroupSize - 1u) scan_s[sg] = incl;
    barrier();
    if (sg == 0u) { // the first subgroup scans the subgroup totals in place
        uvec3 carry = uvec3(0u);
        for (uint b = 0u; b < nsg; b += gl_SubgroupSize) {
            uint i = b + gl_SubgroupInvocationID;
            uvec3 x = i < nsg ? scan_s[i] : uvec3(0u);
            uvec3 xi = subgroupInclusiveAdd(x);
            if (i < nsg) scan_s[i] = carry + xi - x;
            carry += subgroupAdd(x);
        }
        if (gl_SubgroupInvocationID == 0u) scan_s[nsg] = carry;
    }
    barrier();
    uvec3 r = scan_s[sg] + incl - v;
    total = scan_s[nsg];
    barrier();
    return r;
}
uint scan_u(uint v, out uint total) {
    uvec3 tt;
    uint r = scan_u3(uvec3(v, 0u, 0u), tt).x;
    total = tt.x;
    return r;
}
#else
shared uvec3 scan_s[gl_WorkGroupSize.x];

uvec3 scan_u3(uvec3 v, out uvec3 total) {
    uint t = gl_LocalInvocationID.x;
    scan_s[t] = v;
    barrier();
    for (uint o = 1u; o < gl_WorkGroupSize.x; o <<= 1) {
        uvec3 a = t >= o ? scan_s[t - o] : uvec3(0u);
        barrier();
        scan_s[t] += a;
        barrier();
    }
    uvec3 incl = scan_s[t];
    total = scan_s[gl_WorkGroupSize.x - 1u];
    barrier();
    return incl - v;
}
uint scan_u(uint v, out uint total) {
    uvec3 tt;
    uint r = scan_u3(uvec3(v, 0u, 0u), tt).x;
    total = tt.x;
    return r;
}
#endif
