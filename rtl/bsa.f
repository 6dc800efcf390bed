// File list of the bitscale accelerator (bsa), package first.
// The register package bsa_reg_pkg.sv is generated from bsa_regs.def into the build tree
// (cmake/gen_regmap.cmake) and must be passed before this list.
+incdir+${BSA_RTL}
${BSA_RTL}/bsa_pkg.sv
${BSA_RTL}/bsa_spad.sv
${BSA_RTL}/bsa_opdec.sv
${BSA_RTL}/bsa_blkmul.sv
${BSA_RTL}/bsa_mul.sv
${BSA_RTL}/bsa_outstage.sv
${BSA_RTL}/bsa_pe.sv
${BSA_RTL}/bsa_array.sv
${BSA_RTL}/bsa_ctrl.sv
${BSA_RTL}/bsa_csr.sv
${BSA_RTL}/bsa_bus.sv
${BSA_RTL}/bsa_outbuf.sv
${BSA_RTL}/bsa_top.sv
