#include "bitscale/report/html.hpp"

#include <fmt/format.h>
#include <md4c-html.h>

#include <stdexcept>

#include "bitscale/util/file.hpp"

namespace bitscale::report {

namespace {

/// Replaces every <img src="X.svg" ...> written by md4c with the SVG document X.svg (from
/// `svgs`, else read from base_dir).
std::string inline_svgs(const std::string& html, const std::string& base_dir,
                        const std::map<std::string, std::string>& svgs) {
  std::string out;
  std::size_t pos = 0;
  for (std::size_t img; (img = html.find("<img src=\"", pos)) != std::string::npos;) {
    const std::size_t src0 = img + 10;
    const std::size_t src1 = html.find('"', src0);
    const std::size_t end = html.find('>', src0);
    if (src1 == std::string::npos || end == std::string::npos) break;
    out.append(html, pos, img - pos);
    pos = end + 1;
    const std::string src = html.substr(src0, src1 - src0);
    std::string svg;
    if (const auto it = svgs.find(src); it != svgs.end()) {
      svg = it->second;
    } else if (src.ends_with(".svg")) {
      try {
        svg = util::read_file(base_dir.empty() ? src : base_dir + "/" + src);
      } catch (const std::exception&) {
        svg.clear();
      }
    }
    if (const auto p = svg.find("<svg"); p != std::string::npos) svg = svg.substr(p);
    out += svg.empty() ? html.substr(img, pos - img) : "<div class=\"chart\">" + svg + "</div>";
  }
  out.append(html, pos);
  return out;
}

}  // namespace

std::string markdown_to_html(std::string_view md, const std::string& title, const std::string& base_dir,
                             const std::map<std::string, std::string>& svgs) {
  std::string body;
  const auto sink = [](const MD_CHAR* text, MD_SIZE size, void* user) {
    static_cast<std::string*>(user)->append(text, size);
  };
  if (md_html(md.data(), static_cast<MD_SIZE>(md.size()), sink, &body, MD_DIALECT_GITHUB, 0) != 0) {
    throw std::runtime_error(fmt::format("{}: the Markdown could not be rendered", title));
  }
  // Cells follow their align attribute (from the Markdown separator row); text is left-aligned
  // by default, also in header cells.
  return fmt::format(
             "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title>\n<style>body{{font-family:sans-"
             "serif;max-width:64em;margin:auto;padding:0 1em;line-height:1.4}}table{{border-collapse:collapse;"
             "margin:0.5em 0}}td,th{{border:1px solid #999;padding:2px 6px;vertical-align:top}}th{{text-align:left;"
             "background:#f2f2f2}}td[align=right],th[align=right]{{text-align:right;font-variant-numeric:tabular-nums}}"
             "td[align=center],th[align=center]{{text-align:center}}"
             "pre{{background:#eee;padding:4px;overflow-x:auto}}.chart svg{{max-width:100%;height:auto}}"
             "blockquote{{border-left:4px solid #D55E00;margin:0.5em 0;padding:0.2em 1em;background:#fff4ec}}"
             "</style></head><body>\n",
             escape(title)) +
         inline_svgs(body, base_dir, svgs) + "</body></html>\n";
}

}  // namespace bitscale::report
