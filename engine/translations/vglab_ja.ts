<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ja" sourcelanguage="en">
<context>
    <name>Adapter</name>
    <message>
        <source>Cannot load the data set: {0}</source>
        <translation>データセットを読み込めません: {0}</translation>
    </message>
    <message>
        <source>Cannot build the {0}: {1}</source>
        <translation>{0}を構築できません: {1}</translation>
    </message>
    <message>
        <source>experiment</source>
        <translation>実験</translation>
    </message>
    <message>
        <source>Invalid experiment settings</source>
        <extracomment>title of a ConfigError&apos;s messages</extracomment>
        <translation>実験の設定が不正です</translation>
    </message>
</context>
<context>
    <name>Banner</name>
    <message>
        <source>Show the whole text</source>
        <translation>全文を表示</translation>
    </message>
    <message>
        <source>Dismiss</source>
        <translation>閉じる</translation>
    </message>
    <message>
        <source>less</source>
        <translation>たたむ</translation>
    </message>
    <message>
        <source>more</source>
        <translation>続き</translation>
    </message>
</context>
<context>
    <name>BusyIndicator</name>
    <message>
        <source>compiling kernels…</source>
        <translation>カーネルをコンパイル中…</translation>
    </message>
</context>
<context>
    <name>ConfigField</name>
    <message>
        <source>data set</source>
        <translation>データセット</translation>
    </message>
    <message>
        <source>Which examples to learn from</source>
        <translation>学習に使う例</translation>
    </message>
    <message>
        <source>digits: 8×8 handwritten (bundled)</source>
        <translation>digits 8×8 手書き（同梱）</translation>
    </message>
    <message>
        <source>breast cancer (bundled)</source>
        <translation>乳がん（同梱）</translation>
    </message>
    <message>
        <source>spiral (2-D)</source>
        <translation>渦巻き（2次元）</translation>
    </message>
    <message>
        <source>circles (2-D)</source>
        <translation>同心円（2次元）</translation>
    </message>
    <message>
        <source>xor (2-D)</source>
        <translation>XOR（2次元）</translation>
    </message>
    <message>
        <source>moons (2-D)</source>
        <translation>三日月（2次元）</translation>
    </message>
    <message>
        <source>blobs (2-D)</source>
        <translation>塊（2次元）</translation>
    </message>
    <message>
        <source>surface (2-D regression)</source>
        <translation>曲面（2次元の回帰）</translation>
    </message>
    <message>
        <source>MNIST (your files)</source>
        <translation>MNIST（手元のファイル）</translation>
    </message>
    <message>
        <source>CSV file…</source>
        <translation>CSV ファイル…</translation>
    </message>
    <message>
        <source>samples</source>
        <translation>サンプル数</translation>
    </message>
    <message>
        <source>Number of generated points</source>
        <translation>生成する点の数</translation>
    </message>
    <message>
        <source>noise</source>
        <translation>ノイズ</translation>
    </message>
    <message>
        <source>Noise added to the generated points</source>
        <translation>生成した点に加えるノイズ</translation>
    </message>
    <message>
        <source>classes</source>
        <translation>クラス数</translation>
    </message>
    <message>
        <source>Number of classes (spiral, blobs)</source>
        <translation>クラスの数（渦巻き、塊）</translation>
    </message>
    <message>
        <source>path</source>
        <translation>パス</translation>
    </message>
    <message>
        <source>MNIST / CSV: the file or folder to read (empty: the default location)</source>
        <translation>MNIST / CSV：読み込むファイルまたはフォルダ（空欄：既定の場所）</translation>
    </message>
    <message>
        <source>label column</source>
        <translation>ラベル列</translation>
    </message>
    <message>
        <source>CSV: name or index of the label column (-1 = last)</source>
        <translation>CSV：ラベル列の名前または番号（-1 = 最後の列）</translation>
    </message>
    <message>
        <source>test fraction</source>
        <translation>テストの割合</translation>
    </message>
    <message>
        <source>Share of the examples held out for the test accuracy</source>
        <translation>テスト正解率のために取り分ける例の割合</translation>
    </message>
    <message>
        <source>train subset</source>
        <translation>訓練データの上限</translation>
    </message>
    <message>
        <source>Keep at most this many training examples</source>
        <translation>訓練例をこの数までに絞る</translation>
    </message>
    <message>
        <source>all</source>
        <translation>すべて</translation>
    </message>
    <message>
        <source>scaling</source>
        <translation>スケーリング</translation>
    </message>
    <message>
        <source>Feature scaling; auto = unit (pixels / 255) for MNIST, else standardize</source>
        <translation>特徴量のスケーリング。auto = MNIST は unit（画素 / 255）、それ以外は標準化</translation>
    </message>
    <message>
        <source>auto</source>
        <translation>自動</translation>
    </message>
    <message>
        <source>unit (÷ max)</source>
        <translation>unit（÷ 最大値）</translation>
    </message>
    <message>
        <source>standardize</source>
        <translation>標準化</translation>
    </message>
    <message>
        <source>min-max [0, 1]</source>
        <translation>最小-最大 [0, 1]</translation>
    </message>
    <message>
        <source>raw</source>
        <translation>そのまま</translation>
    </message>
    <message>
        <source>unit for MNIST, standardize for the others</source>
        <translation>MNIST は unit、それ以外は標準化</translation>
    </message>
    <message>
        <source>pixels / their maximum (MNIST / 255, digits / 16)</source>
        <translation>画素 / その最大値（MNIST は / 255、digits は / 16）</translation>
    </message>
    <message>
        <source>z-score with the training set&apos;s mean and std</source>
        <translation>訓練データの平均と標準偏差による z スコア</translation>
    </message>
    <message>
        <source>the training set&apos;s range mapped to [0, 1]</source>
        <translation>訓練データの範囲を [0, 1] に写す</translation>
    </message>
    <message>
        <source>values as stored (MNIST 0-255)</source>
        <translation>保存された値のまま（MNIST は 0-255）</translation>
    </message>
    <message>
        <source>data seed</source>
        <translation>データのシード</translation>
    </message>
    <message>
        <source>Generation and split seed</source>
        <translation>生成と分割のシード</translation>
    </message>
    <message>
        <source>hidden layers</source>
        <translation>隠れ層の数</translation>
    </message>
    <message>
        <source>Number of hidden layers (depth)</source>
        <translation>隠れ層の数（深さ）</translation>
    </message>
    <message>
        <source>units per layer</source>
        <translation>層あたりのユニット数</translation>
    </message>
    <message>
        <source>Width of every hidden layer</source>
        <translation>すべての隠れ層の幅</translation>
    </message>
    <message>
        <source>activation</source>
        <translation>活性化関数</translation>
    </message>
    <message>
        <source>Activation of every hidden layer</source>
        <translation>すべての隠れ層の活性化関数</translation>
    </message>
    <message>
        <source>Identity</source>
        <translation>恒等関数</translation>
    </message>
    <message>
        <source>Step (Heaviside)</source>
        <translation>ステップ関数（ヘヴィサイド）</translation>
    </message>
    <message>
        <source>GELU (tanh approx.)</source>
        <translation>GELU（tanh 近似）</translation>
    </message>
    <message>
        <source>negative slope</source>
        <translation>負側の傾き</translation>
    </message>
    <message>
        <source>Leaky ReLU: slope for z &lt; 0</source>
        <translation>Leaky ReLU：z &lt; 0 での傾き</translation>
    </message>
    <message>
        <source>initial slope</source>
        <translation>傾きの初期値</translation>
    </message>
    <message>
        <source>PReLU: initial learnable slope for z &lt; 0</source>
        <translation>PReLU：z &lt; 0 での学習可能な傾きの初期値</translation>
    </message>
    <message>
        <source>ELU: saturation value for z -&gt; -inf</source>
        <translation>ELU：z -&gt; -inf での飽和値</translation>
    </message>
    <message>
        <source>set each layer</source>
        <translation>層ごとに設定</translation>
    </message>
    <message>
        <source>Give every hidden layer its own width and activation</source>
        <translation>隠れ層ごとに幅と活性化関数を指定する</translation>
    </message>
    <message>
        <source>output / loss</source>
        <translation>出力 / 損失</translation>
    </message>
    <message>
        <source>Output activation and loss</source>
        <translation>出力層の活性化関数と損失関数</translation>
    </message>
    <message>
        <source>softmax + cross-entropy</source>
        <translation>softmax + 交差エントロピー</translation>
    </message>
    <message>
        <source>sigmoid + binary CE</source>
        <translation>sigmoid + 二値交差エントロピー</translation>
    </message>
    <message>
        <source>linear + mean squared error</source>
        <translation>線形 + 平均二乗誤差</translation>
    </message>
    <message>
        <source>precision</source>
        <translation>数値の精度</translation>
    </message>
    <message>
        <source>Floating-point type of the weights and activations</source>
        <translation>重みと活性の浮動小数点型</translation>
    </message>
    <message>
        <source>weights</source>
        <translation>重み</translation>
    </message>
    <message>
        <source>How the weights are drawn at the start</source>
        <translation>重みの初期値の決め方</translation>
    </message>
    <message>
        <source>Xavier (Glorot) normal</source>
        <translation>Xavier（Glorot）正規分布</translation>
    </message>
    <message>
        <source>Xavier uniform</source>
        <translation>Xavier 一様分布</translation>
    </message>
    <message>
        <source>He (Kaiming) normal</source>
        <translation>He（Kaiming）正規分布</translation>
    </message>
    <message>
        <source>He uniform</source>
        <translation>He 一様分布</translation>
    </message>
    <message>
        <source>LeCun normal</source>
        <translation>LeCun 正規分布</translation>
    </message>
    <message>
        <source>N(0, σw²/fan_in) (mean field)</source>
        <translation>N(0, σw²/fan_in)（平均場）</translation>
    </message>
    <message>
        <source>normal(0, scale)</source>
        <translation>正規分布 normal(0, scale)</translation>
    </message>
    <message>
        <source>uniform(-scale, scale)</source>
        <translation>一様分布 uniform(-scale, scale)</translation>
    </message>
    <message>
        <source>orthogonal (gain √σw²)</source>
        <translation>直交行列（ゲイン √σw²）</translation>
    </message>
    <message>
        <source>zeros (never breaks symmetry)</source>
        <translation>ゼロ（対称性が崩れない）</translation>
    </message>
    <message>
        <source>scale</source>
        <translation>スケール</translation>
    </message>
    <message>
        <source>Std of &apos;normal&apos; / limit of &apos;uniform&apos;</source>
        <translation>&apos;normal&apos; の標準偏差 / &apos;uniform&apos; の範囲</translation>
    </message>
    <message>
        <source>Weight variance times fan-in (the mean-field σw²): W ~ N(0, σw²/fan_in), or an orthogonal matrix times √σw²</source>
        <translation>重みの分散 × fan-in（平均場の σw²）：W ~ N(0, σw²/fan_in)、または直交行列 × √σw²</translation>
    </message>
    <message>
        <source>bias</source>
        <translation>バイアス</translation>
    </message>
    <message>
        <source>Initial value of every hidden bias</source>
        <translation>すべての隠れ層のバイアスの初期値</translation>
    </message>
    <message>
        <source>Bias variance (the mean-field σb²): each hidden bias ~ N(bias, σb²)</source>
        <translation>バイアスの分散（平均場の σb²）：各隠れ層のバイアス ~ N(bias, σb²)</translation>
    </message>
    <message>
        <source>weights seed</source>
        <translation>重みのシード</translation>
    </message>
    <message>
        <source>Seed of the weights, shuffling and dropout</source>
        <translation>重み、シャッフル、ドロップアウトのシード</translation>
    </message>
    <message>
        <source>optimiser</source>
        <translation>最適化手法</translation>
    </message>
    <message>
        <source>Update rule</source>
        <translation>更新則</translation>
    </message>
    <message>
        <source>learning rate</source>
        <translation>学習率</translation>
    </message>
    <message>
        <source>Step size; applies mid-run without rebuilding</source>
        <translation>ステップ幅。実行中でも作り直さずに反映される</translation>
    </message>
    <message>
        <source>momentum</source>
        <translation>モーメンタム</translation>
    </message>
    <message>
        <source>Momentum / Nesterov coefficient</source>
        <translation>モーメンタム / Nesterov の係数</translation>
    </message>
    <message>
        <source>batch size</source>
        <translation>バッチサイズ</translation>
    </message>
    <message>
        <source>Examples per mini-batch</source>
        <translation>ミニバッチあたりの例の数</translation>
    </message>
    <message>
        <source>weight decay</source>
        <translation>重み減衰</translation>
    </message>
    <message>
        <source>L2 penalty on the weights</source>
        <translation>重みへの L2 ペナルティ</translation>
    </message>
    <message>
        <source>off</source>
        <translation>なし</translation>
    </message>
    <message>
        <source>batch norm</source>
        <translation>バッチ正規化</translation>
    </message>
    <message>
        <source>Normalise each layer&apos;s pre-activations (or outputs) over the batch</source>
        <translation>各層の活性化前の値（または出力）をバッチ全体で正規化する</translation>
    </message>
    <message>
        <source>before the activation</source>
        <translation>活性化関数の前</translation>
    </message>
    <message>
        <source>after the activation</source>
        <translation>活性化関数の後</translation>
    </message>
    <message>
        <source>residual connections</source>
        <translation>残差接続</translation>
    </message>
    <message>
        <source>a_k = f(z_k) + a_{k-1}: the identity path carries the gradient past f&apos;</source>
        <translation>a_k = f(z_k) + a_{k-1}：恒等の経路が f&apos; を迂回して勾配を運ぶ</translation>
    </message>
    <message>
        <source>dropout</source>
        <translation>ドロップアウト</translation>
    </message>
    <message>
        <source>Probability of dropping each hidden unit during training</source>
        <translation>学習中に各隠れユニットを落とす確率</translation>
    </message>
    <message>
        <source>clip norm</source>
        <translation>勾配クリッピング（ノルム）</translation>
    </message>
    <message>
        <source>Rescale the whole gradient to at most this norm</source>
        <translation>勾配全体のノルムがこの値以下になるよう縮める</translation>
    </message>
    <message>
        <source>clip value</source>
        <translation>勾配クリッピング（値）</translation>
    </message>
    <message>
        <source>Clip each gradient entry to [-v, v]</source>
        <translation>勾配の各成分を [-v, v] に切り詰める</translation>
    </message>
</context>
<context>
    <name>Controls</name>
    <message>
        <source>Data</source>
        <extracomment>how the controller&apos;s messages about an unreadable data set begin the panel&apos;s groups and the fields each shows, in order (labels, ranges: engine.config.fields)</extracomment>
        <translation>データ</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>ネットワーク構造</translation>
    </message>
    <message>
        <source>Initialisation</source>
        <translation>重みの初期化</translation>
    </message>
    <message>
        <source>Optimiser</source>
        <translation>最適化</translation>
    </message>
    <message>
        <source>Countermeasures</source>
        <translation>勾配消失の対策</translation>
    </message>
    <message>
        <source>file or folder</source>
        <extracomment>rows that are no config field of their own Enter or Escape ended an edit: the owner may take the keyboard focus back, so that single-key shortcuts (Space, R, the arrows) drive the window again</extracomment>
        <translation>ファイルまたはフォルダ</translation>
    </message>
    <message>
        <source>{0} (modified)</source>
        <translation>{0}（変更あり）</translation>
    </message>
    <message>
        <source>Now: {0}.
Changed: {1}.</source>
        <translation>現在：{0}。
変更点：{1}。</translation>
    </message>
    <message>
        <source>As loaded: {0}</source>
        <translation>読み込み時：{0}</translation>
    </message>
    <message>
        <source>Not applied:</source>
        <translation>適用されませんでした：</translation>
    </message>
    <message>
        <source>Not applied (the previous experiment keeps running):</source>
        <translation>適用されませんでした（前の実験が続いています）：</translation>
    </message>
    <message>
        <source> (live)</source>
        <extracomment>keys that end an edit</extracomment>
        <translation>（即時反映）</translation>
    </message>
</context>
<context>
    <name>Docks</name>
    <message>
        <source>Experiment</source>
        <extracomment>dock name -&gt; (tab/title text, full name for the View menu and the tab&apos;s tooltip). Tab titles are short: a tabified dock&apos;s title must be readable in full in its tab.</extracomment>
        <translation>実験</translation>
    </message>
    <message>
        <source>Experiment settings</source>
        <translation>実験の設定</translation>
    </message>
    <message>
        <source>Inspector</source>
        <translation>層の詳細</translation>
    </message>
    <message>
        <source>Layer inspector</source>
        <translation>層インスペクタ</translation>
    </message>
    <message>
        <source>Gradient per layer</source>
        <translation>層ごとの勾配</translation>
    </message>
    <message>
        <source>Gradient norm per layer</source>
        <translation>層ごとの勾配ノルム</translation>
    </message>
    <message>
        <source>Gradient: layer × step</source>
        <translation>勾配：層 × ステップ</translation>
    </message>
    <message>
        <source>Gradient norm per layer over training</source>
        <translation>学習中の層ごとの勾配ノルム</translation>
    </message>
    <message>
        <source>Loss</source>
        <translation>損失</translation>
    </message>
    <message>
        <source>Accuracy</source>
        <translation>正解率</translation>
    </message>
    <message>
        <source>Boundary</source>
        <translation>決定境界</translation>
    </message>
    <message>
        <source>Decision boundary</source>
        <translation>決定境界</translation>
    </message>
    <message>
        <source>δ histogram: |dL/dz| of the selected layer</source>
        <translation>δ のヒストグラム：選択した層の |dL/dz|</translation>
    </message>
    <message>
        <source>f&apos;(z) histogram of the selected layer</source>
        <translation>選択した層の f&apos;(z) のヒストグラム</translation>
    </message>
    <message>
        <source>Activation</source>
        <translation>活性化関数</translation>
    </message>
    <message>
        <source>Activation function and the layer&apos;s pre-activations</source>
        <translation>活性化関数と層の活性化前の値</translation>
    </message>
    <message>
        <source>Phase diagram</source>
        <translation>相図</translation>
    </message>
    <message>
        <source>Phase diagram: mean-field σw² × σb² plane</source>
        <translation>相図：平均場の σw² × σb² 平面</translation>
    </message>
    <message>
        <source>Jacobian σ</source>
        <translation>ヤコビアン σ</translation>
    </message>
    <message>
        <source>Jacobian spectrum: singular values of d a_L-1 / d a_0</source>
        <translation>ヤコビアンのスペクトル：d a_L-1 / d a_0 の特異値</translation>
    </message>
</context>
<context>
    <name>Inspector</name>
    <message>
        <source>output (loss applies softmax/sigmoid)</source>
        <translation>出力層（損失が softmax/sigmoid を適用）</translation>
    </message>
    <message>
        <source>Next: &lt;b&gt;{0}&lt;/b&gt;.</source>
        <extracomment>phase-result norm -&gt; the inspector value it replaces while that phase is on screen</extracomment>
        <translation>次：&lt;b&gt;{0}&lt;/b&gt;。</translation>
    </message>
    <message>
        <source>This layer&apos;s weight gradient is &lt;b&gt;{0}&lt;/b&gt; × the output layer&apos;s: 1 factor of the chain rule between them.</source>
        <translation>この層の重みの勾配は出力層の &lt;b&gt;{0}&lt;/b&gt; 倍：間に連鎖律の因子が 1 個あります。</translation>
    </message>
    <message>
        <source>This layer&apos;s weight gradient is &lt;b&gt;{0}&lt;/b&gt; × the output layer&apos;s: {1} factors of the chain rule between them.</source>
        <translation>この層の重みの勾配は出力層の &lt;b&gt;{0}&lt;/b&gt; 倍：間に連鎖律の因子が {1} 個あります。</translation>
    </message>
    <message>
        <source>size of this layer&apos;s weights</source>
        <translation>この層の重みの大きさ</translation>
    </message>
    <message>
        <source>gradient arriving from the layer above (dL/da&lt;sub&gt;k&lt;/sub&gt;)</source>
        <translation>上の層から届く勾配（dL/da&lt;sub&gt;k&lt;/sub&gt;）</translation>
    </message>
    <message>
        <source>how much the activation lets through (at most its max |f&apos;|: 0.25 for sigmoid)</source>
        <translation>活性化関数が勾配をどれだけ通すか（最大でも |f&apos;| の最大値：sigmoid では 0.25）</translation>
    </message>
    <message>
        <source>= incoming &amp;times; f&apos;(z): the error signal at this layer</source>
        <translation>= 届いた勾配 &amp;times; f&apos;(z)：この層での誤差信号</translation>
    </message>
    <message>
        <source>= a&lt;sub&gt;k-1&lt;/sub&gt;&lt;sup&gt;T&lt;/sup&gt; &amp;delta;&lt;sub&gt;k&lt;/sub&gt;: what the optimiser sees</source>
        <translation>= a&lt;sub&gt;k-1&lt;/sub&gt;&lt;sup&gt;T&lt;/sup&gt; &amp;delta;&lt;sub&gt;k&lt;/sub&gt;：最適化手法が受け取る勾配</translation>
    </message>
    <message>
        <source>gradient kept from the layer above (&amp;lt; 1: vanishing)</source>
        <translation>上の層から保たれた勾配の割合（&amp;lt; 1：勾配消失）</translation>
    </message>
    <message>
        <source>relative size of the last update (~1e-3 is healthy)</source>
        <translation>直前の更新の相対的な大きさ（~1e-3 なら健全）</translation>
    </message>
    <message>
        <source>saturated</source>
        <translation>飽和</translation>
    </message>
    <message>
        <source>units with |f&apos;| &amp;lt; 1% of its max: pass almost nothing</source>
        <translation>|f&apos;| が最大値の 1% 未満のユニット：勾配をほとんど通さない</translation>
    </message>
    <message>
        <source>dead</source>
        <translation>死んだユニット</translation>
    </message>
    <message>
        <source>units whose output is 0 for the whole batch</source>
        <translation>バッチ全体で出力が 0 のユニット</translation>
    </message>
    <message>
        <source>pre-activations: far from 0 means saturation</source>
        <translation>活性化前の値：0 から遠いほど飽和している</translation>
    </message>
    <message>
        <source>Layer inspector</source>
        <translation>層インスペクタ</translation>
    </message>
    <message>
        <source>Click a layer in the network to inspect it.</source>
        <translation>ネットワークの層をクリックすると詳細を表示します。</translation>
    </message>
</context>
<context>
    <name>LanguageMenu</name>
    <message>
        <source>Lan&amp;guage</source>
        <translation>言語(&amp;G)</translation>
    </message>
    <message>
        <source>Show the lab in this language</source>
        <translation>この言語でラボを表示します</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>&amp;File</source>
        <extracomment>the main window&apos;s menus: name (the menu&apos;s objectName, the same in every language, which gui.teaching finds its menus by) -&gt; title, translated in context ``MainWindow``</extracomment>
        <translation>ファイル(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>実行(&amp;R)</translation>
    </message>
    <message>
        <source>Spee&amp;d</source>
        <translation>速度(&amp;D)</translation>
    </message>
    <message>
        <source>Pre&amp;sets</source>
        <translation>プリセット(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Tools</source>
        <translation>ツール(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Lessons</source>
        <translation>レッスン(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>表示(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>ヘルプ(&amp;H)</translation>
    </message>
    <message>
        <source>&lt;b&gt;Vanishing Gradient Lab&lt;/b&gt;&lt;br&gt;Watch, layer by layer, why deep networks stop learning: the backward pass multiplies one factor f&apos;(z) · W per layer, and with sigmoid f&apos; ≤ 0.25.</source>
        <translation>&lt;b&gt;Vanishing Gradient Lab（勾配消失ラボ）&lt;/b&gt;&lt;br&gt;深いネットワークがなぜ学習しなくなるのかを層ごとに観察します。誤差逆伝播は層ごとに因子 f&apos;(z) · W を掛け合わせ、sigmoid では f&apos; ≤ 0.25 です。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Network&lt;/b&gt;: columns are layers; edge colour and width show |dL/dW| on a log scale, so a vanishing gradient fades out towards the input. Click a layer to inspect it.&lt;br&gt;&lt;br&gt;&lt;b&gt;Gradient per layer&lt;/b&gt;: ||dL/dW_k|| for every layer; a straight falling line on the log axis means a constant shrink factor per layer.&lt;br&gt;&lt;br&gt;&lt;b&gt;Heatmap&lt;/b&gt;: the same over time.&lt;br&gt;&lt;br&gt;&lt;b&gt;Inspector&lt;/b&gt;: the chain rule for the selected layer, δ_k = (δ_(k+1) W^T) · f&apos;(z_k), in numbers.&lt;br&gt;&lt;br&gt;&lt;b&gt;Step phase&lt;/b&gt; (Shift+→) runs one layer of the forward or backward pass at a time.</source>
        <translation>&lt;b&gt;ネットワーク&lt;/b&gt;：列が層です。辺の色と太さは |dL/dW| を対数スケールで表すので、勾配消失が起きると入力側に向かって薄れていきます。層をクリックすると詳細を表示します。&lt;br&gt;&lt;br&gt;&lt;b&gt;層ごとの勾配&lt;/b&gt;：各層の ||dL/dW_k||。対数軸上でまっすぐ下がる線は、層ごとに一定の割合で縮むことを意味します。&lt;br&gt;&lt;br&gt;&lt;b&gt;ヒートマップ&lt;/b&gt;：同じものの時間変化です。&lt;br&gt;&lt;br&gt;&lt;b&gt;層の詳細&lt;/b&gt;：選択した層の連鎖律 δ_k = (δ_(k+1) W^T) · f&apos;(z_k) を数値で示します。&lt;br&gt;&lt;br&gt;&lt;b&gt;1 フェーズ&lt;/b&gt;（Shift+→）は順伝播または逆伝播を 1 層ずつ進めます。</translation>
    </message>
    <message>
        <source>About Vanishing Gradient Lab</source>
        <translation>Vanishing Gradient Lab について</translation>
    </message>
    <message>
        <source>How to read this window</source>
        <translation>このウィンドウの見方</translation>
    </message>
    <message>
        <source>(presets unavailable)</source>
        <translation>（プリセットを読み込めません）</translation>
    </message>
    <message>
        <source>(no presets)</source>
        <translation>（プリセットなし）</translation>
    </message>
    <message>
        <source>Compare all side by side…</source>
        <translation>すべてを並べて比較…</translation>
    </message>
    <message>
        <source> (baseline)</source>
        <translation>（基準）</translation>
    </message>
    <message>
        <source>Saved base settings</source>
        <translation>保存された基本設定</translation>
    </message>
    <message>
        <source>&amp;Recurrent nets: RNN vs LSTM vs GRU…</source>
        <translation>再帰型ネット：RNN・LSTM・GRU の比較(&amp;R)…</translation>
    </message>
    <message>
        <source>Train a vanilla RNN, an LSTM and a GRU in lock-step on the adding problem and watch ||dL/dh_t|| through time</source>
        <translation>素の RNN、LSTM、GRU を加算問題で同時に学習させ、時間をさかのぼる ||dL/dh_t|| を観察します</translation>
    </message>
    <message>
        <source>Trainability &amp;sweep…</source>
        <translation>学習可能性のスイープ(&amp;S)…</translation>
    </message>
    <message>
        <source>Train a grid of nets (sigma_w^2 x depth) on every core and compare the trainable region with the mean-field depth 6 xi_c</source>
        <translation>ネットの格子（sigma_w^2 × 深さ）を全コアで学習させ、学習できる領域を平均場の深さ 6 xi_c と比べます</translation>
    </message>
    <message>
        <source>Play / pause training (Space)</source>
        <extracomment>what the transport commands do in this window (see gui.transport.TRANSPORT)</extracomment>
        <translation>学習を再生 / 一時停止 (Space)</translation>
    </message>
    <message>
        <source>One mini-batch: forward, backward, update (→)</source>
        <translation>ミニバッチ 1 つ分: 順伝播、誤差逆伝播、重みの更新 (→)</translation>
    </message>
    <message>
        <source>One phase: forward through a layer, the loss, backward through a layer, or the update (Shift+→)</source>
        <translation>1 フェーズ分: 1 層の順伝播、損失、1 層の誤差逆伝播、または重みの更新 (Shift+→)</translation>
    </message>
    <message>
        <source>Train to the end of the current epoch (Ctrl+→)</source>
        <translation>現在のエポックの終わりまで学習 (Ctrl+→)</translation>
    </message>
    <message>
        <source>New random weights, empty history (R)</source>
        <translation>重みを乱数で初期化し直し、履歴を消去 (R)</translation>
    </message>
    <message>
        <source>Numba compiles the training kernels on the very first start (under a minute, in another process) and caches them on disk; training runs on NumPy meanwhile (the same numbers, slower) and switches to the kernels by itself.</source>
        <translation>最初の起動時だけ、Numba が学習用カーネルを別プロセスでコンパイルし（1 分以内）、ディスクに保存します。その間の学習は NumPy で進み（同じ数値で、より遅く）、終われば自動でカーネルに切り替わります。</translation>
    </message>
    <message>
        <source>&amp;Open experiment…</source>
        <translation>実験を開く(&amp;O)…</translation>
    </message>
    <message>
        <source>Load an experiment config (TOML or JSON)</source>
        <translation>実験の設定ファイル（TOML または JSON）を読み込みます</translation>
    </message>
    <message>
        <source>&amp;Save experiment as…</source>
        <translation>名前を付けて実験を保存(&amp;S)…</translation>
    </message>
    <message>
        <source>Save the current settings as a TOML config</source>
        <translation>現在の設定を TOML ファイルに保存します</translation>
    </message>
    <message>
        <source>&amp;Export plots…</source>
        <translation>グラフを書き出す(&amp;E)…</translation>
    </message>
    <message>
        <source>Write every panel as PNG and SVG into a folder</source>
        <translation>すべてのパネルを PNG と SVG でフォルダに書き出します</translation>
    </message>
    <message>
        <source>Export &amp;window as PNG…</source>
        <translation>ウィンドウを PNG で書き出す(&amp;W)…</translation>
    </message>
    <message>
        <source>Screenshot of the whole window</source>
        <translation>ウィンドウ全体のスクリーンショット</translation>
    </message>
    <message>
        <source>Export &amp;metrics as CSV…</source>
        <translation>指標を CSV で書き出す(&amp;M)…</translation>
    </message>
    <message>
        <source>Loss, accuracy and per-layer gradient norms per step</source>
        <translation>ステップごとの損失、正解率、層ごとの勾配ノルム</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>終了(&amp;Q)</translation>
    </message>
    <message>
        <source>Reset &amp;layout</source>
        <translation>レイアウトを元に戻す(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;About</source>
        <translation>このアプリについて(&amp;A)</translation>
    </message>
    <message>
        <source>How to &amp;read this window</source>
        <translation>このウィンドウの見方(&amp;R)</translation>
    </message>
    <message>
        <source>Colour edges by |W| instead of |dL/dW|</source>
        <translation>辺を |dL/dW| ではなく |W| で色付け</translation>
    </message>
    <message>
        <source>  Space play/pause · → step · Shift+→ phase · R reset</source>
        <translation>  Space 再生/一時停止 · → ステップ · Shift+→ フェーズ · R リセット</translation>
    </message>
    <message>
        <source>Compiling kernels (first run only) — running on NumPy meanwhile</source>
        <translation>カーネルをコンパイル中（初回のみ）— その間は NumPy で実行</translation>
    </message>
    <message>
        <source>The run diverged</source>
        <translation>学習が発散しました</translation>
    </message>
    <message>
        <source>{0}.&lt;br&gt;{1} Press R to start again with fresh weights.</source>
        <translation>{0}.&lt;br&gt;{1} R キーで新しい重みからやり直せます。</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>問題が起きました</translation>
    </message>
    <message>
        <source>Not applied</source>
        <translation>適用されませんでした</translation>
    </message>
    <message>
        <source>Not applied: still running {0}</source>
        <translation>適用されませんでした：{0} を実行中のまま</translation>
    </message>
</context>
<context>
    <name>NetworkDiagram</name>
    <message>
        <source>Building the network…</source>
        <translation>ネットワークを構築中…</translation>
    </message>
    <message>
        <source>Colour edges by the size of their weight gradient</source>
        <translation>辺を重みの勾配の大きさで色付け</translation>
    </message>
    <message>
        <source>Colour edges by the size of the weight itself</source>
        <translation>辺を重みそのものの大きさで色付け</translation>
    </message>
    <message>
        <source>edges:</source>
        <translation>辺：</translation>
    </message>
    <message>
        <source> — 1 hidden layer</source>
        <translation> — 隠れ層 1 層</translation>
    </message>
    <message>
        <source> — {0} hidden layers</source>
        <translation> — 隠れ層 {0} 層</translation>
    </message>
    <message>
        <source>Network</source>
        <translation>ネットワーク</translation>
    </message>
    <message>
        <source> · edges: {0}, log scale</source>
        <translation> · 辺：{0}（対数スケール）</translation>
    </message>
    <message>
        <source>Edge colour and width follow the size of each weight&apos;s gradient (or of the weight). Click a layer to inspect it.</source>
        <translation>辺の色と太さは各重みの勾配（または重み）の大きさを表します。層をクリックすると詳細を表示します。</translation>
    </message>
</context>
<context>
    <name>Plots</name>
    <message>
        <source>|δ| = |dL/dz| of {0}</source>
        <extracomment>while playing, seconds between redraws of each panel (absent: every frame). Qt paints in the GUI thread holding the GIL (PySide6 does not release it around QPainter calls), and every millisecond of painting is a millisecond the training thread cannot run its Python; so only the network diagram follows every frame, the plots refresh a few times a second. names of the gradient chart&apos;s two measured series the theory overlays of the gradient chart (absent from a frame: hidden) header of the metrics CSV before the per-layer gradient norms</extracomment>
        <translation>{0} の |δ| = |dL/dz|</translation>
    </message>
    <message>
        <source>f&apos;(z) of {0}</source>
        <translation>{0} の f&apos;(z)</translation>
    </message>
    <message>
        <source>Decision boundary</source>
        <translation>決定境界</translation>
    </message>
    <message>
        <source>2-D inputs only ({0} here)</source>
        <translation>2 次元入力のみ（ここでは {0} 次元）</translation>
    </message>
    <message>
        <source>Singular values of d a_L-1 / d a_0</source>
        <extracomment>seconds between two computations while playing (at least) largest share of the worker&apos;s time the computations may take while playing singular values below this times the largest are &quot;zero&quot; (no place on a log axis)</extracomment>
        <translation>d a_L-1 / d a_0 の特異値</translation>
    </message>
    <message>
        <source>computed while this is shown</source>
        <translation>表示中だけ計算します</translation>
    </message>
    <message>
        <source>J not computed: {0}</source>
        <translation>J は計算されていません：{0}</translation>
    </message>
    <message>
        <source>{0} · step {1}</source>
        <translation>{0} · ステップ {1}</translation>
    </message>
    <message>
        <source>Loss</source>
        <translation>損失</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>損失</translation>
    </message>
    <message>
        <source>Accuracy</source>
        <translation>正解率</translation>
    </message>
    <message>
        <source>accuracy</source>
        <translation>正解率</translation>
    </message>
    <message>
        <source>|δ_k| = |dL/dz_k| of the selected layer</source>
        <translation>選択した層の |δ_k| = |dL/dz_k|</translation>
    </message>
    <message>
        <source>|δ| (log scale)</source>
        <translation>|δ|（対数スケール）</translation>
    </message>
    <message>
        <source>f&apos;(z_k) of the selected layer</source>
        <translation>選択した層の f&apos;(z_k)</translation>
    </message>
    <message>
        <source>Activation</source>
        <extracomment>the title before an activation is known</extracomment>
        <translation>活性化関数</translation>
    </message>
    <message>
        <source>pre-activation z</source>
        <translation>活性化前の値 z</translation>
    </message>
    <message>
        <source>z of this layer</source>
        <translation>この層の z</translation>
    </message>
    <message>
        <source>{0}: {1}% of z where |f&apos;| ≤ 1% of max</source>
        <translation>{0}：z の {1}% で |f&apos;| ≤ 最大値の 1%</translation>
    </message>
    <message>
        <source>training step</source>
        <extracomment>colour of the event line (divergence)
----------
colour range (log10 units) of a heatmap with no data</extracomment>
        <translation>学習ステップ</translation>
    </message>
    <message>
        <source>Gradient norm per layer</source>
        <translation>層ごとの勾配ノルム</translation>
    </message>
    <message>
        <source>layer</source>
        <extracomment>floor used when no series has a single positive finite value</extracomment>
        <translation>層</translation>
    </message>
    <message>
        <source>Gradient norm per layer over training</source>
        <translation>学習中の層ごとの勾配ノルム</translation>
    </message>
    <message>
        <source>count</source>
        <translation>個数</translation>
    </message>
    <message>
        <source>{0} exactly zero</source>
        <translation>{0} がちょうど 0</translation>
    </message>
    <message>
        <source>prediction at init (wide nets):
dashed RMS σ, band ±1 sd</source>
        <translation>初期化時の予測（幅の広いネット）：
破線 RMS σ、帯 ±1 標準偏差</translation>
    </message>
    <message>
        <source>σ (log scale)</source>
        <translation>σ（対数スケール）</translation>
    </message>
    <message>
        <source>Phase diagram (mean field at init)</source>
        <translation>相図（初期化時の平均場）</translation>
    </message>
    <message>
        <source>Mean-field phase diagram of a deep random net of this activation: x = σw² (weight variance × fan-in), y = σb² (bias variance); colour = the depth scale ξc over which two inputs&apos; correlation forgets its start (Schoenholz et al. 2017); red line = edge of chaos χ₁ = 1. Left of it gradients vanish by √χ₁ per layer, right of it they explode. Star: this net&apos;s init; circles: standard inits. Click to use that (σw², σb²); hover for the numbers.</source>
        <translation>この活性化関数を持つ深いランダムネットの平均場の相図：x = σw²（重みの分散 × fan-in）、y = σb²（バイアスの分散）。色 = 2 つの入力の相関が初期の状態を忘れるまでの深さのスケール ξc（Schoenholz ら 2017）。赤線 = カオスの縁 χ₁ = 1。その左では勾配が層ごとに √χ₁ 倍で消失し、右では爆発します。星：このネットの初期化、丸：標準的な初期化。クリックするとその (σw², σb²) を使い、カーソルを置くと数値を表示します。</translation>
    </message>
    <message>
        <source>Phase diagram: {0} (mean field at init)</source>
        <translation>相図：{0}（初期化時の平均場）</translation>
    </message>
</context>
<context>
    <name>StatusReadout</name>
    <message>
        <source>mini-batches done</source>
        <extracomment>field -&gt; its tooltip (context ``StatusReadout``)</extracomment>
        <translation>処理したミニバッチの数</translation>
    </message>
    <message>
        <source>passes over the training set</source>
        <translation>訓練データを一巡した回数</translation>
    </message>
    <message>
        <source>where the step-through is</source>
        <translation>ステップ実行の現在位置</translation>
    </message>
    <message>
        <source>training loss of the last mini-batch</source>
        <translation>直前のミニバッチの訓練損失</translation>
    </message>
    <message>
        <source>training accuracy of the last mini-batch / test accuracy</source>
        <translation>直前のミニバッチの訓練正解率 / テスト正解率</translation>
    </message>
    <message>
        <source>training steps per second</source>
        <translation>1 秒あたりの学習ステップ数</translation>
    </message>
    <message>
        <source>step &lt;b&gt;{0}&lt;/b&gt;</source>
        <translation>ステップ &lt;b&gt;{0}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>epoch &lt;b&gt;{0}&lt;/b&gt;</source>
        <translation>エポック &lt;b&gt;{0}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>idle</source>
        <translation>待機中</translation>
    </message>
    <message>
        <source>phase &lt;b&gt;{0}&lt;/b&gt;</source>
        <translation>フェーズ &lt;b&gt;{0}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>loss &lt;b&gt;{0}&lt;/b&gt;</source>
        <translation>損失 &lt;b&gt;{0}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>acc &lt;b&gt;{0}&lt;/b&gt; / test &lt;b&gt;{1}&lt;/b&gt;</source>
        <translation>正解率 &lt;b&gt;{0}&lt;/b&gt; / テスト &lt;b&gt;{1}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>{0} steps/s</source>
        <translation>{0} ステップ/秒</translation>
    </message>
    <message>
        <source>running</source>
        <translation>実行中</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>一時停止中</translation>
    </message>
</context>
<context>
    <name>Transport</name>
    <message>
        <source>&amp;Play</source>
        <extracomment>(window attribute, label, controller method, shortcut, icon)</extracomment>
        <translation>再生(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Step</source>
        <translation>1 ステップ(&amp;S)</translation>
    </message>
    <message>
        <source>Step &amp;phase</source>
        <translation>1 フェーズ(&amp;P)</translation>
    </message>
    <message>
        <source>Run one &amp;epoch</source>
        <translation>1 エポック実行(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Reset</source>
        <translation>リセット(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>一時停止(&amp;P)</translation>
    </message>
    <message>
        <source> speed </source>
        <translation> 速度 </translation>
    </message>
    <message>
        <source>Cap on training steps per second (live)</source>
        <translation>1 秒あたりの学習ステップ数の上限 (学習中も変更可)</translation>
    </message>
</context>
<context>
    <name>cli</name>
    <message>
        <source>commands:
  run      train one experiment, write its metrics, summary and plots
  compare  run variants side by side (cartesian product of --vary options)
  check    validate a config file or preset without training
  sweep    train a grid of nets (e.g. sigma_w2 x depth), compare with 6 xi_c
  presets  list the bundled presets

CONFIG is a .toml/.json file or a preset name (see `vglab presets`).  --set key=value
overrides any field; values are TOML literals (5, 0.01, true, &quot;text&quot;, [16, 16]).

exit codes: 0 ok, 1 runtime failure, 2 invalid config or arguments, 3 a run diverged,
130 interrupted

examples:
  vglab run seed000_deep_activations --epochs 10
  vglab compare seed002_depth_16_units --steps 300
  vglab check my_experiment.toml
</source>
        <translation>コマンド:
  run      実験を 1 つ学習し、指標・要約・図を書き出す
  compare  変種を並べて実行 (--vary オプションの全組み合わせ)
  check    設定ファイルまたはプリセットを学習せずに検証
  sweep    ネットの格子 (例 sigma_w2 x depth) を学習し、6 xi_c と比較
  presets  同梱のプリセットを一覧表示

CONFIG は .toml/.json ファイルまたはプリセット名です (`vglab presets` を参照)。
--set key=value で任意のフィールドを上書きします。値は TOML リテラルです
(5, 0.01, true, &quot;text&quot;, [16, 16])。

終了コード: 0 成功、1 実行時エラー、2 不正な設定または引数、3 学習が発散、
130 中断

例:
  vglab run seed000_deep_activations --epochs 10
  vglab compare seed002_depth_16_units --steps 300
  vglab check my_experiment.toml
</translation>
    </message>
    <message>
        <source>usage: </source>
        <translation>使い方: </translation>
    </message>
    <message>
        <source>positional arguments</source>
        <translation>位置引数</translation>
    </message>
    <message>
        <source>options</source>
        <translation>オプション</translation>
    </message>
    <message>
        <source>show this help message and exit</source>
        <translation>このヘルプを表示して終了</translation>
    </message>
    <message>
        <source>language of the messages (default: from LANG, e.g. ja_JP.UTF-8)</source>
        <translation>メッセージの言語 (既定: LANG による。例 ja_JP.UTF-8)</translation>
    </message>
    <message>
        <source>Vanishing Gradient Lab: watch gradients shrink layer by layer.</source>
        <extracomment>command -&gt; (flag, metavar, help) of its repeatable list option</extracomment>
        <translation>Vanishing Gradient Lab (勾配消失ラボ): 勾配が層ごとに小さくなる様子を観察します。</translation>
    </message>
    <message>
        <source>show the version and exit</source>
        <translation>バージョンを表示して終了</translation>
    </message>
    <message>
        <source>show a traceback for runtime failures</source>
        <translation>実行時エラーのトレースバックを表示</translation>
    </message>
    <message>
        <source>train one experiment</source>
        <translation>実験を 1 つ学習</translation>
    </message>
    <message>
        <source>run variants side by side</source>
        <translation>複数の変種を並べて実行</translation>
    </message>
    <message>
        <source>validate a config</source>
        <translation>設定を検証</translation>
    </message>
    <message>
        <source>train a grid of nets, compare with 6 xi_c</source>
        <translation>ネットの格子を学習し、6 xi_c と比較</translation>
    </message>
    <message>
        <source>list the presets</source>
        <translation>プリセットの一覧</translation>
    </message>
    <message>
        <source>error: {0}</source>
        <translation>エラー: {0}</translation>
    </message>
    <message>
        <source>error: {0} problems:</source>
        <translation>エラー: 問題が {0} 件あります:</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>中断しました</translation>
    </message>
    <message>
        <source>runtime failure: {0}: {1} (--debug shows the traceback)</source>
        <translation>実行時エラー: {0}: {1} (--debug でトレースバックを表示)</translation>
    </message>
</context>
</TS>
