package peg

import (
	"bytes"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// Output scripts of each kind §5.1 allows, and one it does not.
var (
	p2wpkh  = append([]byte{0x00, 0x14}, bytes.Repeat([]byte{0xaa}, 20)...)
	p2tr    = append([]byte{0x51, 0x20}, bytes.Repeat([]byte{0xbb}, 32)...)
	p2pkh   = append(append([]byte{0x76, 0xa9, 0x14}, bytes.Repeat([]byte{0xcc}, 20)...), 0x88, 0xac)
	p2sh    = append(append([]byte{0xa9, 0x14}, bytes.Repeat([]byte{0xdd}, 20)...), 0x87)
	p2wsh   = append([]byte{0x00, 0x20}, bytes.Repeat([]byte{0xee}, 32)...)
	opRetrn = []byte{0x6a, 0x04, 'm', 'm', 'g', 'e'}
)

// §5.2's formula by hand for one 2-of-3 input (the dev deposit script is
// 27 + 150 = 177 bytes) paying one P2WPKH:
//
//	base = 4 + 1 + 41 + 1 + (8 + 1 + 22) + 4                  = 82
//	wit  = cs(5) + 1 + 74·2 + 2 + cs(177) + 177 = 1+1+148+2+1+177 = 330
//	vsize = ceil((4·82 + 2 + 330) / 4) = ceil(660/4)          = 165
//
// and the per-input figures of §13: 41 + 330/4 = 123.5 vB at 2-of-3, and
// 41 + (1+1+74·11+2+3+653)/4 = 409.5 vB at 11-of-15 with a 2-of-3
// emergency branch (federation script 626 bytes, deposit script 653).
func TestVSize(t *testing.T) {
	if got := VSize(1, [][]byte{p2wpkh}, 2, 177); got != 165 {
		t.Fatalf("vsize %d, want 165", got)
	}
	perInput := func(threshold, scriptLen int) float64 {
		w1 := 4*VSize(1, [][]byte{p2wpkh}, threshold, scriptLen) - 3
		w101 := 4*VSize(101, [][]byte{p2wpkh}, threshold, scriptLen) - 3
		return float64(w101-w1) / 4 / 100
	}
	if got := perInput(2, 177); got < 123.4 || got > 123.6 {
		t.Errorf("2-of-3: %.2f vB per input, want 123.5", got)
	}
	fs, err := FederationScript(scalarFederation(11, 15, 2, 3, 26280))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 626 {
		t.Fatalf("11-of-15 federation script is %d bytes", len(fs))
	}
	if got := perInput(11, 27+len(fs)); got < 409.4 || got > 409.6 {
		t.Errorf("11-of-15: %.2f vB per input, want 409.5", got)
	}
}

type devPeg struct {
	fed    *Federation
	keys   *DevKeys
	script []byte
	params *BatchParams
}

func newDevPeg(t testing.TB) *devPeg {
	t.Helper()
	fed, ks, err := DevFederation()
	if err != nil {
		t.Fatal(err)
	}
	script, err := FederationScript(fed)
	if err != nil {
		t.Fatal(err)
	}
	return &devPeg{fed, ks, script, &BatchParams{
		ChainID: 7772, FedScript: script, Threshold: 2, FeeRate: 2, MaxInputs: 50, MaxOutputs: 50,
	}}
}

func utxo(b byte, vout uint32, sat int64, recipient [20]byte) UTXO {
	return UTXO{OutPoint: wire.OutPoint{Hash: chainhash.Hash{b}, Index: vout}, ValueSat: sat, Recipient: recipient}
}

// twoInputBatch is one 0.01 BTC request paid from two 0.007 BTC UTXOs,
// with its sighashes.
func (d *devPeg) twoInputBatch(t testing.TB) (*Batch, [][32]byte) {
	t.Helper()
	b, err := BuildPegOut([]Request{{ID: 1, PkScript: p2wpkh, AmountSat: 1_000_000}},
		[]UTXO{utxo(1, 0, 700_000, [20]byte{1}), utxo(2, 0, 700_000, [20]byte{})}, d.params)
	if err != nil {
		t.Fatal(err)
	}
	hashes, err := b.Sighashes()
	if err != nil {
		t.Fatal(err)
	}
	return b, hashes
}

// sign has the given members sign every input; nil where a member is
// absent, in member order as AssembleWitness takes them.
func sign(t testing.TB, b *Batch, keys []*btcec.PrivateKey, members ...int) [][]*ecdsa.Signature {
	t.Helper()
	hashes, err := b.Sighashes()
	if err != nil {
		t.Fatal(err)
	}
	sigs := make([][]*ecdsa.Signature, len(hashes))
	for i, h := range hashes {
		sigs[i] = make([]*ecdsa.Signature, len(keys))
		for _, m := range members {
			sigs[i][m] = ecdsa.Sign(keys[m], h[:])
		}
	}
	return sigs
}

func assemble(t testing.TB, b *Batch, sigs [][]*ecdsa.Signature, threshold int) {
	t.Helper()
	for i, s := range b.Spent {
		w, err := AssembleWitness(sigs[i], threshold, s.WitnessScript)
		if err != nil {
			t.Fatal(err)
		}
		b.Tx.TxIn[i].Witness = w
	}
}

// The regtest keys sign a peg-out that btcd's script engine accepts, the
// way mmfed will: members 0 and 2 sign, member 1 is away.
func TestPegOutSpendAcceptedByBtcd(t *testing.T) {
	d := newDevPeg(t)
	alice := mustRecipient(t, hardhat0)
	utxos := []UTXO{
		utxo(1, 0, 50_000_000, alice),
		utxo(2, 3, 30_000_000, [20]byte{}),
		utxo(3, 1, 100_000_000, alice),
	}
	requests := []Request{
		{ID: 7, PkScript: p2wpkh, AmountSat: 60_000_000},
		{ID: 8, PkScript: p2tr, AmountSat: 10_000_000},
		{ID: 9, PkScript: p2pkh, AmountSat: 5_000_000},
	}
	b, err := BuildPegOut(requests, utxos, d.params)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Tx.TxIn) != 2 || len(b.Tx.TxOut) != 4 || b.Tx.Version != 2 || b.Tx.LockTime != 0 {
		t.Fatalf("tx shape: %d in, %d out, version %d", len(b.Tx.TxIn), len(b.Tx.TxOut), b.Tx.Version)
	}
	vsize := VSize(2, [][]byte{p2wpkh, p2tr, p2pkh, PkScript(b.Spent[1].WitnessScript)}, 2, len(b.Spent[0].WitnessScript))
	if b.FeeSat != 3*((2*vsize+2)/3) || b.ShareSat != (2*vsize+2)/3 {
		t.Fatalf("fee %d, share %d for vsize %d at 2 sat/vB", b.FeeSat, b.ShareSat, vsize)
	}
	for i, r := range requests {
		if out := b.Tx.TxOut[i]; out.Value != r.AmountSat-b.ShareSat || !bytes.Equal(out.PkScript, r.PkScript) {
			t.Errorf("output %d: %d to %x", i, out.Value, out.PkScript)
		}
	}
	change := b.Tx.TxOut[3]
	if change.Value != 5_000_000 || b.ChangeSat != 5_000_000 || !bytes.Equal(change.PkScript, unhex(t, "0020"+changeProgramHex(t, d))) {
		t.Fatalf("change %d to %x", change.Value, change.PkScript)
	}
	for i, in := range b.Tx.TxIn {
		if in.Sequence != 0xfffffffd || in.PreviousOutPoint != utxos[i].OutPoint || in.SignatureScript != nil {
			t.Errorf("input %d: %+v", i, in)
		}
	}
	txid := b.Tx.TxHash()

	assemble(t, b, sign(t, b, d.keys.Members, 0, 2), 2)
	if err := b.VerifySpend(); err != nil {
		t.Fatal(err)
	}
	if b.Tx.TxHash() != txid {
		t.Fatal("signing changed the txid")
	}
	// The estimate may only err high, by at most a byte or so per signature
	// (71-byte DER counted as 72), shared over four weight units.
	weight := int64(3*b.Tx.SerializeSizeStripped() + b.Tx.SerializeSize())
	actual := (weight + 3) / 4
	if vsize < actual || vsize-actual > 2 {
		t.Fatalf("estimated %d vB, real %d", vsize, actual)
	}
}

func changeProgramHex(t testing.TB, d *devPeg) string {
	change, err := DepositScript(7772, [20]byte{}, d.script)
	if err != nil {
		t.Fatal(err)
	}
	p := WitnessProgram(change)
	return Hex(p[:]).String()
}

func TestPegOutSpendRejected(t *testing.T) {
	d := newDevPeg(t)
	build := func() *Batch {
		b, err := BuildPegOut([]Request{{ID: 1, PkScript: p2wsh, AmountSat: 1_000_000}},
			[]UTXO{utxo(1, 0, 700_000, [20]byte{1}), utxo(2, 0, 700_000, [20]byte{2})}, d.params)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, b *Batch)
	}{
		{"signatures out of member order", func(t *testing.T, b *Batch) {
			sigs := sign(t, b, d.keys.Members, 0, 1)
			for _, s := range sigs {
				s[0], s[1] = s[1], s[0]
			}
			assemble(t, b, sigs, 2)
		}},
		{"signature of another input", func(t *testing.T, b *Batch) {
			sigs := sign(t, b, d.keys.Members, 0, 1)
			sigs[0], sigs[1] = sigs[1], sigs[0]
			assemble(t, b, sigs, 2)
		}},
		{"emergency key on the member branch", func(t *testing.T, b *Batch) {
			keys := append([]*btcec.PrivateKey{d.keys.Emergency[0]}, d.keys.Members[1:]...)
			assemble(t, b, sign(t, b, keys, 0, 1), 2)
		}},
		{"output changed after signing", func(t *testing.T, b *Batch) {
			assemble(t, b, sign(t, b, d.keys.Members, 1, 2), 2)
			b.Tx.TxOut[0].Value++
		}},
		{"input value misstated", func(t *testing.T, b *Batch) {
			b.Spent[1].ValueSat--
			assemble(t, b, sign(t, b, d.keys.Members, 1, 2), 2)
			b.Spent[1].ValueSat++
		}},
		{"other recipient's script", func(t *testing.T, b *Batch) {
			assemble(t, b, sign(t, b, d.keys.Members, 1, 2), 2)
			b.Tx.TxIn[0].Witness[3] = b.Spent[1].WitnessScript
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := build()
			tc.spoil(t, b)
			if err := b.VerifySpend(); ruleOf(err) != ErrSpendInvalid {
				t.Fatalf("err %v", err)
			}
		})
	}
	b := build()
	sigs := sign(t, b, d.keys.Members, 1)
	if _, err := AssembleWitness(sigs[0], 2, b.Spent[0].WitnessScript); ruleOf(err) != ErrNotEnoughSignatures {
		t.Fatalf("one signature: %v", err)
	}
}

// The emergency key alone spends once the CSV delay has passed, and not a
// block before.
func TestEmergencySpend(t *testing.T) {
	d := newDevPeg(t)
	for _, tc := range []struct {
		sequence uint32
		ok       bool
	}{{144, true}, {1000, true}, {143, false}, {0xfffffffd, false}} {
		b, err := BuildPegOut([]Request{{ID: 1, PkScript: p2wpkh, AmountSat: 400_000}},
			[]UTXO{utxo(9, 2, 500_000, [20]byte{})}, d.params)
		if err != nil {
			t.Fatal(err)
		}
		b.Tx.TxIn[0].Sequence = tc.sequence
		sigs := sign(t, b, d.keys.Emergency, 0)
		w, err := AssembleEmergencyWitness(sigs[0], 1, b.Spent[0].WitnessScript)
		if err != nil {
			t.Fatal(err)
		}
		b.Tx.TxIn[0].Witness = w
		if err := b.VerifySpend(); (err == nil) != tc.ok {
			t.Errorf("sequence %d: %v", tc.sequence, err)
		}
	}
}

func TestBuildPegOutRules(t *testing.T) {
	d := newDevPeg(t)
	big := []UTXO{utxo(1, 0, 10_000_000, [20]byte{1})}
	t.Run("deterministic", func(t *testing.T) {
		reqs := []Request{{ID: 1, PkScript: p2sh, AmountSat: 100_000}, {ID: 2, PkScript: p2wpkh, AmountSat: 200_000}}
		var a, b bytes.Buffer
		x, _ := BuildPegOut(reqs, big, d.params)
		y, _ := BuildPegOut(reqs, big, d.params)
		x.Tx.Serialize(&a)
		y.Tx.Serialize(&b)
		if a.Len() == 0 || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatal("two builds differ")
		}
	})
	t.Run("dust after fee is refunded", func(t *testing.T) {
		// At 2 sat/vB a 1-in 3-out batch costs about 2×(165+43+32) sat;
		// the share pushes the 600-sat P2PKH request under 546.
		reqs := []Request{
			{ID: 1, PkScript: p2wpkh, AmountSat: 100_000},
			{ID: 2, PkScript: p2pkh, AmountSat: 600},
			{ID: 3, PkScript: p2tr, AmountSat: 100_000},
		}
		b, err := BuildPegOut(reqs, big, d.params)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Refunded) != 1 || b.Refunded[0].ID != 2 || len(b.Paid) != 2 || b.Paid[0].ID != 1 || b.Paid[1].ID != 3 {
			t.Fatalf("paid %v, refunded %v", b.Paid, b.Refunded)
		}
		if len(b.Tx.TxOut) != 3 || b.Tx.TxOut[0].Value != 100_000-b.ShareSat {
			t.Fatalf("outputs %v", b.Tx.TxOut)
		}
		if reqs[1].ID != 2 {
			t.Fatal("the caller's requests were reordered")
		}
	})
	// Inputs cover the requested amounts only (the shares pay the fee):
	// change below 330 goes to the fee, and the vsize then counts no change
	// output, so the fee rate is met exactly.
	t.Run("small change goes to the fee", func(t *testing.T) {
		reqs := []Request{{ID: 1, PkScript: p2wpkh, AmountSat: 100_000}}
		b, err := BuildPegOut(reqs, []UTXO{utxo(1, 0, 100_000+329, [20]byte{1})}, d.params)
		if err != nil {
			t.Fatal(err)
		}
		vsize := VSize(1, [][]byte{p2wpkh}, 2, 177)
		if len(b.Tx.TxOut) != 1 || b.ChangeSat != 0 || b.VSize != vsize || b.ShareSat != 2*vsize || b.FeeSat != b.ShareSat+329 {
			t.Fatalf("outputs %v, change %d, vsize %d, fee %d", b.Tx.TxOut, b.ChangeSat, b.VSize, b.FeeSat)
		}
		if b.Tx.TxOut[0].Value != 100_000-2*vsize {
			t.Fatalf("payee gets %d", b.Tx.TxOut[0].Value)
		}
	})
	t.Run("exact cover needs no extra input", func(t *testing.T) {
		reqs := []Request{{ID: 1, PkScript: p2wpkh, AmountSat: 100_000}}
		b, err := BuildPegOut(reqs, []UTXO{utxo(1, 0, 100_000, [20]byte{1}), utxo(2, 0, 5_000_000, [20]byte{1})}, d.params)
		if err != nil || len(b.Tx.TxIn) != 1 || len(b.Tx.TxOut) != 1 {
			t.Fatalf("%v: %d inputs, %d outputs", err, len(b.Tx.TxIn), len(b.Tx.TxOut))
		}
	})
	t.Run("max outputs", func(t *testing.T) {
		p := *d.params
		p.MaxOutputs = 1
		b, err := BuildPegOut([]Request{{1, p2wpkh, 100_000}, {2, p2wpkh, 100_000}}, big, &p)
		if err != nil || len(b.Paid) != 1 || b.Paid[0].ID != 1 {
			t.Fatalf("%v, %v", b, err)
		}
	})
	for _, tc := range []struct {
		name   string
		reqs   []Request
		utxos  []UTXO
		inputs int
		want   error
	}{
		{"no requests", nil, big, 50, ErrNothingToBatch},
		{"only dust", []Request{{1, p2wpkh, 300}}, big, 50, ErrNothingToBatch},
		{"OP_RETURN", []Request{{1, opRetrn, 100_000}}, big, 50, ErrUnsupportedScript},
		{"no utxos", []Request{{1, p2wpkh, 100_000}}, nil, 50, ErrInsufficientFunds},
		{"not enough", []Request{{1, p2wpkh, 100_000}}, []UTXO{utxo(1, 0, 99_999, [20]byte{1})}, 50, ErrInsufficientFunds},
		{"max inputs", []Request{{1, p2wpkh, 150_000}},
			[]UTXO{utxo(1, 0, 100_000, [20]byte{1}), utxo(2, 0, 100_000, [20]byte{1})}, 1, ErrInsufficientFunds},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := *d.params
			p.MaxInputs = tc.inputs
			_, err := BuildPegOut(tc.reqs, tc.utxos, &p)
			if ruleOf(err) != tc.want {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

// On-chain signatures (r‖s‖v) decode to the DER signatures btcd's engine
// accepts; a high-S or malformed one is refused as the Bridge refuses it.
func TestWitnessFromRSV(t *testing.T) {
	d := newDevPeg(t)
	b, hashes := d.twoInputBatch(t)
	rsv := make([][]byte, 3)
	for _, m := range []int{0, 2} {
		for _, h := range hashes {
			s := SignRSV(d.keys.Members[m], h)
			rsv[m] = append(rsv[m], s[:]...)
		}
	}
	if err := b.WitnessFromRSV(rsv, 2); err != nil {
		t.Fatal(err)
	}
	if err := b.VerifySpend(); err != nil {
		t.Fatal(err)
	}
	high := bytes.Clone(rsv[0][:SigRSVLen])
	var s btcec.ModNScalar
	s.SetByteSlice(high[32:64])
	s.Negate()
	sb := s.Bytes()
	copy(high[32:64], sb[:])
	for name, sig := range map[string][]byte{
		"high S": high, "v 29": append(bytes.Clone(rsv[0][:64]), 29), "64 bytes": rsv[0][:64],
		"r zero": append(make([]byte, 32), rsv[0][32:SigRSVLen]...),
	} {
		if _, err := SignatureFromRSV(sig); ruleOf(err) != ErrBadSignature {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestMedianFeeRate(t *testing.T) {
	for _, c := range []struct {
		votes         []uint32
		start, lo, hi uint64
		want          uint64
	}{
		{[]uint32{0, 0, 0}, 2, 1, 1000, 2},
		{[]uint32{5, 0, 9}, 2, 1, 1000, 5},
		{[]uint32{5000, 4000, 1}, 2, 1, 1000, 1000},
		{[]uint32{7, 3}, 2, 1, 1000, 3},
		{[]uint32{0, 0, 0}, 2, 3, 1000, 3},
	} {
		if got := MedianFeeRate(c.votes, c.start, c.lo, c.hi); got != c.want {
			t.Errorf("%v: %d, want %d", c.votes, got, c.want)
		}
	}
}
