namespace Ocr.MLNet.Fields;

/// <summary>
/// Every tuned number of the field reader, in one place, grouped by the stage that uses it: finding the field or a
/// form's boxes (<see cref="FormBoxFinder"/>), cleaning the image and finding its lines of writing and cutting them
/// into pieces (<see cref="FieldSegmenter"/>), recognising candidate characters and decoding the line
/// (<see cref="HandwrittenFieldReader"/>). Lengths are in working pixels unless said otherwise, and most are shares of
/// the field's character height ("ch"), so they hold at any scan resolution. The figures quoted are the dev folders'
/// (names-dev, cheque-amounts-dev) character error rates before → after the value was chosen (the git log of
/// <c>src/Ocr.MLNet/Fields</c> has the rest); changing one changes what the reader reads, so measure with
/// <c>ocr-mlnet evaluate-fields</c> on all three folders first.
/// </summary>
internal static class FieldReaderThresholds
{
    // ── Stage 1: find the field (a field cropped with its box) or a form's boxes ─────────────────────────────────────

    /// <summary>A field cropped with one box around it is read inside that box when the box is at least this share of the image's width (a narrower box is a drawn loop, not the field's frame).</summary>
    public const double BoxedFieldMinWidthShare = 0.5;

    /// <summary>A page narrower or lower than this (pixels) has no form boxes to find.</summary>
    public const int FormMinPageSide = 16;

    /// <summary>The shortest printed line a form box is drawn with (pixels): a sixtieth of the page's shorter side, and never under <see cref="FormMinLineLengthPixels"/>, so a handwritten stroke is not a border.</summary>
    public const int FormLineLengthDivisor = 60;

    /// <summary>The floor of the form line length (pixels).</summary>
    public const int FormMinLineLengthPixels = 15;

    /// <summary>A box is at least this many line lengths wide (fields are wider than high; a loop of handwriting is not).</summary>
    public const int FormMinBoxWidthInLines = 2;

    /// <summary>A border's thickness is looked for within this fraction (1/n) of the box's smaller side …</summary>
    public const int FormBorderBandDivisor = 8;

    /// <summary>… and at least this many pixels.</summary>
    public const int FormMinBorderBand = 3;

    /// <summary>Boxes taller than this many times the page's median box are frames around text, not fields.</summary>
    public const double FrameHeightRatio = 2.5;

    /// <summary>Rows (or columns) either side taken together when looking for a box's border: a scanned page is a little skewed.</summary>
    public const int FormBorderSkewPixels = 2;

    /// <summary>A row (column) is a box's border when at least this share of it is covered by straight line.</summary>
    public const double FormBorderCover = 0.6;

    /// <summary>A box's border lines are at least this far apart (pixels), or half the candidate's size when that is smaller.</summary>
    public const int FormMinBoxSide = 16;

    /// <summary>A row (column) still holds some of the border's thickness while at least this share of it is line.</summary>
    public const double FormBorderThicknessCover = 0.05;

    /// <summary>The inside of a box begins this many pixels past its border: ink bleeding off the line stays out.</summary>
    public const int FormInnerMarginPixels = 2;

    /// <summary>A box whose inside is narrower or lower than this (pixels) holds no field.</summary>
    public const int FormMinInnerSide = 4;

    // ── Stage 2: clean the image ─────────────────────────────────────────────────────────────────────────────────────

    /// <summary>A field narrower or lower than this (source pixels) is blank: nothing can be written in it.</summary>
    public const int MinFieldSide = 3;

    /// <summary>Fields lower than this are scaled up: thin strokes survive the morphology and the threshold.</summary>
    public const int MinWorkingHeight = 64;

    /// <summary>Fields higher than this are scaled down: the work stays proportional to the ink, not to the camera.</summary>
    public const int MaxWorkingHeight = 320;

    /// <summary>The most a field is scaled up (a tiny crop blown up further is only blur).</summary>
    public const double MaxUpscale = 4.0;

    /// <summary>The local paper is the brightest pixel within a window of a third of the field's height, and never under <see cref="BackgroundWindowMin"/> pixels: wider than a stroke, narrower than shading.</summary>
    public const int BackgroundWindowDivisor = 3;

    /// <summary>The smallest paper window (working pixels).</summary>
    public const int BackgroundWindowMin = 15;

    /// <summary>The least contrast (0–255) between ink and paper for anything to count as ink; also the floor of full ink strength when normalising.</summary>
    public const int MinContrast = 40;

    /// <summary>The lowest clear-ink (Otsu) threshold: half of <see cref="MinContrast"/>, so a near-blank field's noise is not split in two by Otsu.</summary>
    public const double MinOtsuThreshold = MinContrast / 2.0;

    /// <summary>The faint-ink thresholds the hysteresis tries, faintest first, as fractions of the clear-ink (Otsu) threshold (0.4 alone → these three: names-dev 14.84 → 13.51 %).</summary>
    public static readonly double[] HysteresisFractions = [0.2, 0.3, 0.4];

    /// <summary>The most the faint ink may grow the clear ink by (a ratio of areas) before it counts as background texture (a cheque's pattern).</summary>
    public const double MaxFaintGrowth = 1.6;

    /// <summary>Horizontal lines at least this share of a narrow field's width (under three heights wide) are guide lines or borders.</summary>
    public const double NarrowFieldLineShare = 0.6;

    /// <summary>A field at least this many heights wide is wide: its guide lines are a quarter of its width or two heights long, whichever is longer.</summary>
    public const int WideFieldAspect = 3;

    /// <summary>In a wide field, a guide line is at least this fraction (1/n) of its width.</summary>
    public const int WideFieldLineDivisor = 4;

    /// <summary>In a wide field, a guide line is at least this many field heights long.</summary>
    public const int WideFieldLineHeights = 2;

    /// <summary>The shortest horizontal line removed (working pixels).</summary>
    public const int MinHorizontalLine = 20;

    /// <summary>Vertical lines at least this share of the field's height are box borders (only at the sides: a 1 or an I in the middle is a character).</summary>
    public const double VerticalLineShare = 0.85;

    /// <summary>The shortest vertical line removed (working pixels).</summary>
    public const int MinVerticalLine = 10;

    /// <summary>Box borders are looked for in this fraction (1/n) of the field's width at each side, and at least <see cref="MinBorderSide"/> pixels.</summary>
    public const int BorderSideDivisor = 8;

    /// <summary>The narrowest side band that may hold a border (working pixels).</summary>
    public const int MinBorderSide = 3;

    /// <summary>The removed lines are grown by this many pixels (square side) to take their anti-aliased edges along.</summary>
    public const int LineGrowthPixels = 3;

    /// <summary>The smallest mark that is not a speck (working pixels), before the character height is known: noise must not set it.</summary>
    public const int MinSpeckArea = 6;

    /// <summary>A mark under this share of the field's height squared is a speck, whatever the field's size.</summary>
    public const double SpeckAreaPerSquaredHeight = 0.0008;

    /// <summary>A mark lower and narrower than this share of the field's height is tiny beside the field (dust, or the dots of a colon; a field of nothing else is blank).</summary>
    public const double TinyShareOfField = 0.12;

    /// <summary>A tiny mark is dust when it is also lower than this share of the character height (a small i in a crop with the prompts above and below is kept: names-dev 11.50 → 11.38 %).</summary>
    public const double DustHeight = 0.4;

    /// <summary>Left-overs under this share of the character height squared in area …</summary>
    public const double LeftoverArea = 0.012;

    /// <summary>… and lower than this share of the character height are removed once the character height is known.</summary>
    public const double LeftoverHeight = 0.3;

    /// <summary>On plain paper, the percentile of a line's ink strength taken as full strength (names-dev: 0.9 → 0.6 took CER 11.4 → 10.9 %).</summary>
    public const double PlainPaperFullInk = 0.6;

    /// <summary>On a textured background, the percentile taken as full strength (lower lifts the pattern: cheques 26.5 → 27.2 % at 0.6).</summary>
    public const double PatternedFullInk = 0.9;

    // ── Stage 2: the character height, the printed prompt, the lines of writing ────────────────────────────────────

    /// <summary>The marks that set the character height are those with at least this share of the biggest one's area (an i's dot or a hyphen left whole does not set it: names-dev 11.56 → 11.41 %, cheques 30.49 → 28.65 %).</summary>
    public const double BiggerMarkAreaShare = 0.2;

    /// <summary>A mark whose box comes within this many pixels of the field's top or bottom is cut by the field's edge.</summary>
    public const int EdgeMarginPixels = 1;

    /// <summary>The marks not cut by the field's edge set the character height only when there are at least this many (a hyphen left whole by a tight crop set it to 8 pixels: names-dev 10.85 → 10.67 %).</summary>
    public const int MinWholeMarksForHeight = 2;

    /// <summary>A line of writing other than the one most marks sit on needs at least this many tall marks to be tried.</summary>
    public const int MinMarksOnOtherLine = 2;

    /// <summary>The smallest character height taken (working pixels).</summary>
    public const double MinCharacterHeight = 8;

    /// <summary>A colon's dot is at most this share of the character height high and wide …</summary>
    public const double ColonDotSize = 0.4;

    /// <summary>… at most this share of the character height squared in area …</summary>
    public const double ColonDotArea = 0.12;

    /// <summary>… and round: neither side more than this many times the other (a cheque's hatching breaks into dashes: cheques 28.65 → 27.05 %).</summary>
    public const double ColonDotAspect = 2;

    /// <summary>A prompt's colon lies in this share of the field's width from the left.</summary>
    public const double ColonLeftShare = 0.6;

    /// <summary>A colon's two dots differ in area by at most this factor (one glyph drawn twice; the lower may be cut) …</summary>
    public const double ColonDotsAreaRatio = 3;

    /// <summary>… and in width by at most this factor (two fragments of a faint broken letter are not a colon: names-dev 10.05 → 10.02 %).</summary>
    public const double ColonDotsWidthRatio = 1.5;

    /// <summary>A colon's dots are less than this share of the character height apart.</summary>
    public const double ColonDotsGap = 0.6;

    /// <summary>A tall mark is at least this share of the character height: the marks that place a line of writing.</summary>
    public const double TallMarkHeight = 0.5;

    /// <summary>A mark belongs to a line when at least this share of its height is in the line …</summary>
    public const double LineHoldsShare = 0.3;

    /// <summary>… or this share for a mark cut by the field's edge (more of a cut mark may be the next field's).</summary>
    public const double LineHoldsEdgeShare = 0.5;

    /// <summary>Tall marks are on one line when they share this share of the lower of their heights.</summary>
    public const double LineOverlapShare = 0.5;

    /// <summary>The middle of a line leaves out this share of its height at the top and at the bottom (where a hyphen sits).</summary>
    public const double LineMiddleInset = 0.25;

    // ── Stage 2: the marks of a line, and cutting them into pieces ─────────────────────────────────────────────────

    /// <summary>Components overlapping in x by at least this share of the narrower one are one group (an i and its dot, a broken stroke).</summary>
    public const double JoinOverlapShare = 0.5;

    /// <summary>A mark this many times wider than high is flat (a dash, an underline's fragment) …</summary>
    public const double FlatMarkAspect = 1.5;

    /// <summary>… and is dropped when lower than this share of the character height …</summary>
    public const double FlatMarkHeight = 0.3;

    /// <summary>… or lower than this share and in the middle of the line, as a hyphen is (JEAN-MICHEL read JEANCMICHEL: names 8.84 → 8.72 %, cheques 23.74 → 23.47 %; 0.4: 8.75 / 23.56 %).</summary>
    public const double HyphenHeight = 0.5;

    /// <summary>A mark lower than this share of the character height …</summary>
    public const double PunctuationHeight = 0.3;

    /// <summary>… and narrower than this share is punctuation (an amount's point, an apostrophe), not a character.</summary>
    public const double PunctuationWidth = 0.35;

    /// <summary>A mark under this share of the character height both ways …</summary>
    public const double SpeckSize = 0.6;

    /// <summary>… farther than this many character heights from every other mark is a speck (names-dev 10.88 → 10.85 %).</summary>
    public const double SpeckDistance = 2;

    /// <summary>A group wider than this share of the character height may hold more than one character and is cut at candidate cuts.</summary>
    public const double CutFromWidth = 0.7;

    /// <summary>Candidate cuts stay this share of the character height (at least <see cref="MinCutSpacingPixels"/>) from a group's ends and from each other.</summary>
    public const double CutSpacing = 0.18;

    /// <summary>The least cut margin and spacing (working pixels).</summary>
    public const int MinCutSpacingPixels = 2;

    /// <summary>A group gets at most one cut per this share of the character height of its width.</summary>
    public const double CutsPerWidth = 0.25;

    /// <summary>The column profile is smoothed over this many columns either side before its valleys are found.</summary>
    public const int ProfileSmoothingReach = 1;

    /// <summary>In digit fields, how far the top of the ink must dip between two joined digits, as a share of the character height (cheques 34.02 → 32.77 %).</summary>
    public const double SkylineDipDepth = 0.1;

    /// <summary>On plain paper, faint ink within this many character heights of a candidate's strokes reaches the network (E's faint middle bars: names-dev 9.06 → 8.84 %).</summary>
    public const double FaintInkReach = 0.15;

    /// <summary>The least strength (of 255) faint ink must have to be taken in: the paper's grain stays out.</summary>
    public const byte FaintInkFloor = 40;

    /// <summary>The longer side a candidate's crop is scaled up to before the training preparation, whose σ = 1 blur was made for SD19's 60–100-pixel characters (names-dev 22.2 → 14.8 %).</summary>
    public const int PreparedSide = 96;

    // ── Stage 3 with a line recognizer: the cleaned line it reads (FieldLineImage) ─────────────────────────────────

    /// <summary>
    /// White columns left and right of a cleaned line, in character heights: the synthetic names start a few pixels to a
    /// character into their crop. (The line's height follows the kind's character share in the synthetic fields.)
    /// </summary>
    public const double LineSideMargin = 0.25;

    // ── Stage 3: recognise (the candidate characters) ──────────────────────────────────────────────────────────────

    /// <summary>The most pieces one character may be made of.</summary>
    public const int MaxPiecesPerCharacter = 4;

    /// <summary>A candidate does not span a gap between groups wider than this share of the character height.</summary>
    public const double CandidateMaxGap = 0.25;

    /// <summary>A candidate is not wider than this many character heights (a wide M or W is about 1.3).</summary>
    public const double CandidateMaxWidth = 1.6;

    // ── Stage 4: decode (choose the cuts and the classes) ──────────────────────────────────────────────────────────

    /// <summary>Log-score taken per cut made inside a connected stroke: a cut must buy a clearly better reading (names-dev 29.9 → 22.2 % with the hysteresis).</summary>
    public const double CutCost = 3.0;

    /// <summary>The cut cost in a digits-only field, whose characters are often written joined (amounts, dates).</summary>
    public const double DigitCutCost = 1.0;

    /// <summary>Marks closer than this share of the character height nearly touch: a boundary between them costs half a cut.</summary>
    public const double NearlyTouchingGap = 0.15;

    /// <summary>Characters wider than this many character heights pay <see cref="WidePenalty"/> times the square of the excess.</summary>
    public const double WidePenaltyFrom = 0.8;

    /// <summary>The weight of the wide-character penalty (touching characters read as one are wide).</summary>
    public const double WidePenalty = 6;

    /// <summary>A candidate whose width and height are both under this share of the character height is a fragment.</summary>
    public const double SmallFrom = 0.4;

    /// <summary>What reading a fragment as a character of its own costs (a log-probability; names-dev 10.88 → 10.85 %).</summary>
    public const double SmallPenalty = 3;

    /// <summary>
    /// What leaving a fragment out of the reading costs (a log-probability): less than reading it as a character of its own
    /// (<see cref="SmallPenalty"/> and more), so a fragment joins a neighbour or is dropped. 1.5 on the dev folders (names
    /// 9.34 → 9.06 %, cheques 25.57 → 24.72 %; 0.5 to 2 all within 0.1 points on names).
    /// </summary>
    public const double FragmentDropCost = 1.5;

    /// <summary>Added to a probability before its log, so a class the network rules out costs a finite −13.8.</summary>
    public const double LogProbabilityFloor = 1e-6;

    /// <summary>Classes per candidate the decoder weighs when it follows letter pairs (the network's best few; 2 and 8 read names-dev alike).</summary>
    public const int PairReadings = 4;

    /// <summary>A line whose reading scores this or less per character (a mean log-probability) may be the wrong line of writing (names-dev 10.67 → 10.05 %).</summary>
    public const double PoorLineScore = -1.2;

    /// <summary>What one more character adds to a line's score when lines of writing compete (a log-probability).</summary>
    public const double CharacterReward = 0.3;

    /// <summary>The share of a capitals field's characters read best as small letters from which the writer is taken to write in small letters (names-dev 10.02 → 9.34 %).</summary>
    public const double SmallLetterShare = 0.25;

    /// <summary>A gap between characters is a space when it is wider than this many character heights …</summary>
    public const double SpaceMinGap = 0.8;

    /// <summary>… and than this many times the line's median gap (some people print letters far apart).</summary>
    public const double SpaceGapOverMedian = 2.5;
}
