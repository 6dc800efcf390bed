// The dynamic bit-width study of Jahier Pagliari et al. (ISLPED 2018), issue 4: every header of
// the study library (records, runner, characterization, sweep, outputs).
#pragma once

#include "bitscale/study/characterize.hpp"
#include "bitscale/study/characterize_job.hpp"
#include "bitscale/study/characterize_run.hpp"
#include "bitscale/study/classify_job.hpp"
#include "bitscale/study/confirm.hpp"
#include "bitscale/study/controller.hpp"
#include "bitscale/study/energy.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/eval.hpp"
#include "bitscale/study/eval_job.hpp"
#include "bitscale/study/outputs.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/study/runner.hpp"
#include "bitscale/study/sweep.hpp"
#include "bitscale/study/sweep_job.hpp"
#include "bitscale/study/sweep_run.hpp"
