// Package macros of the bitscale accelerator, so that one RTL source reads in Verilator and in
// yosys 0.23 (Debian 12's, used by `make synth` and `make formal`, docs/SYNTHESIS.md).
//
// yosys 0.23 knows packages but not `import`, neither in a module header nor in its body. Its
// read_verilog defines YOSYS: there the package brackets and imports vanish, and the contents of
// bsa_reg_pkg and bsa_pkg become compilation-unit declarations, visible to every module read
// after them (file order of rtl/bsa.f: the generated bsa_reg_pkg first, then bsa_pkg). Every
// other tool sees ordinary packages imported in the module headers (lowRISC style):
//
//   `BSA_PACKAGE(bsa_pkg) ... `BSA_ENDPACKAGE
//   module bsa_x
//     `BSA_IMPORT(bsa_pkg)
//     `BSA_IMPORT(bsa_reg_pkg)
//   ( ... );
//
// Other constructs yosys 0.23 does not read and the RTL therefore avoids: packed arrays of more
// than one dimension (flattened, element i at [W*i +: W]), `return` (functions assign their
// name), `inside`, unpacked-array parameters, casts to a package-qualified type.
`ifndef BSA_COMPAT_SVH
`define BSA_COMPAT_SVH

`ifdef YOSYS
  `define BSA_PACKAGE(__name)
  `define BSA_ENDPACKAGE
  `define BSA_IMPORT(__name)
`else
  `define BSA_PACKAGE(__name) package __name;
  `define BSA_ENDPACKAGE endpackage
  `define BSA_IMPORT(__name) import __name::*;
`endif

`endif  // BSA_COMPAT_SVH
