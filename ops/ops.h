#pragma once
// Everything a model needs, in one include.
#include "autograd/grad_mode.h"
#include "ops/gradcheck.h"
#include "autograd/graphviz.h"
#include "core/generator.h"
#include "ops/convert.h"
#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/functional.h"
#include "ops/join.h"
#include "ops/linalg.h"
#include "ops/print.h"
#include "ops/reduce.h"
