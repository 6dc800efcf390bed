// libjpeg error handling shared by the decoder (image.cpp) and the encoder (downscale.cpp).
// libjpeg reports fatal errors through error_exit, which must not return. Throwing a C++
// exception through libjpeg's C frames is not safe, so on_error_exit formats the message into a
// plain buffer and longjmps back to the setjmp of the function that drives libjpeg, which
// returns false; its caller then destroys the libjpeg object and throws ImageError.
#pragma once

#include <csetjmp>
#include <cstdio>

// libjpeg's header needs <cstdio> (FILE, size_t) first.
#include <jpeglib.h>

namespace bitscale::data::detail {

struct ErrorManager {
  jpeg_error_mgr pub;  // must be first: libjpeg hands us a pointer to it
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  int warnings;
  char first_warning[JMSG_LENGTH_MAX];
};

[[noreturn]] inline void on_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

}  // namespace bitscale::data::detail
