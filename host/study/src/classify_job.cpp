#include "bitscale/study/classify_job.hpp"

#include <fmt/format.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include "bitscale/data/image.hpp"
#include "bitscale/model/load.hpp"
#include "bitscale/quant/calibrate.hpp"
#include "bitscale/study/axbxp.hpp"
#include "bitscale/study/policy.hpp"

namespace bitscale::study {

ClassifyOutcome run_classify(const ClassifyJob& job, const std::function<void(const std::string&)>& warn) {
  const data::DataPaths d = data::resolve_data_paths(job.data);
  ClassifyOutcome out;
  out.image = job.image;
  out.model_path = d.need_model();
  out.backend = job.backend;
  out.bits = job.bits;
  out.weight_fl = job.weight_fl;
  const model::Model model = model::load_model(out.model_path);
  const model::Network net(model);
  if (!d.synsets.empty() || !d.labels.empty()) out.synsets.emplace(d.need_synsets());
  // The image first: a missing, corrupt or directory --image fails before any calibration.
  const data::Image img = data::load_for_model(job.image, net.input_h(), net.input_w());

  std::unique_ptr<quant::Calibration> calib;
  std::unique_ptr<Engine> engine;
  if (on_array(job.backend)) {
    std::vector<std::string> defaults;
    if (job.calib.empty()) {
      if (d.images.empty()) throw std::invalid_argument("no --calib given and no default image directory");
      // The calibration half of the default images, never the image being classified.
      defaults = data::split_even_odd(data::list_images(d.images)).calibration;
      data::exclude_calibration_images(defaults, std::vector<std::string>{job.image});
    }
    calib = std::make_unique<quant::Calibration>(
        quant::obtain_calibration(net, job.calib, defaults, job.calib_limit, job.jobs, warn));
    if (!job.save_calib.empty()) calib->save(job.save_calib, net);
    out.calib_images = calib->images.size();
    ArrayConfig cfg{.backend = job.backend,
                    .bits = job.bits,
                    .calib = calib.get(),
                    .weight_fl = job.weight_fl,
                    .quantization = job.quantization,
                    .configure = {}};
    if (!job.approx_config.empty()) {  // checked against the model, the bit-width and the calibration
      cfg.configure = [&job, model_hash = content_hash(out.model_path), calib_id = calibration_id(*calib, net)](
                          quant::QuantizedNetwork& q, driver::Accelerator&) {
        apply_config_file(load_config_file(job.approx_config, q, model_hash), q, calib_id);
      };
    }
    engine = std::make_unique<Engine>(net, cfg, job.factory);
  } else {
    if (!job.approx_config.empty())
      throw std::invalid_argument(fmt::format(
          "--approx-config {}: an Ax-BxP configuration runs on the array (--backend golden, golden-device or rtl)",
          job.approx_config));
    engine = std::make_unique<Engine>(net);
  }
  out.prediction = engine->session()->run(img.rgb);
  out.on_array = engine->on_array();
  if (out.synsets) out.label = data::Labeler::with_file(*out.synsets, d.labels)(job.image);
  return out;
}

}  // namespace bitscale::study
